/**
 * Payload offsets of DBR metadata (reference §5.3), shared by the DBR encoder and decoder.
 */
import type { DbrMetadata } from './types.js';

/** Offsets of metadata fields inside a DBR payload. */
export const MetaOffset = {
  STATUS: 0,
  SEVERITY: 2,
  /** TIME types. */
  TIME_SECONDS: 4,
  TIME_NANOSECONDS: 8,
  /** GR/CTRL SHORT, CHAR, LONG. */
  INT_UNITS: 4,
  INT_LIMITS: 12,
  /** GR/CTRL FLOAT, DOUBLE. */
  PRECISION: 4,
  FLOAT_UNITS: 8,
  FLOAT_LIMITS: 16,
  /** GR/CTRL ENUM. */
  ENUM_NO_STR: 4,
  ENUM_STRINGS: 6,
  /** STSACK_STRING. */
  ACKT: 4,
  ACKS: 6,
} as const;

/** GR/CTRL limits in wire order; GR types carry the first six. */
export const LIMIT_FIELDS = [
  'upperDisplayLimit',
  'lowerDisplayLimit',
  'upperAlarmLimit',
  'upperWarningLimit',
  'lowerWarningLimit',
  'lowerAlarmLimit',
  'upperControlLimit',
  'lowerControlLimit',
] as const satisfies readonly (keyof DbrMetadata)[];

/** The 16-byte EVENT_ADD request payload (§3.9). */
export const EventAddPayload = {
  /** f32, deprecated deadbands (0.0 from current clients). */
  LOW: 0,
  HIGH: 4,
  TO: 8,
  /** u16 DBE_* mask. */
  MASK: 12,
  /** u16 pad. */
  PAD: 14,
  SIZE: 16,
} as const;

/** The UDP search reply payload: u16 server minor, then pad (§3.2). */
export const SearchReplyPayload = { VERSION: 0, SIZE: 8 } as const;

/** Search reply `p1` meaning "use this datagram's source address" (RSRV always sends it). */
export const SEARCH_ADDRESS_USE_SOURCE = 0xffffffff;

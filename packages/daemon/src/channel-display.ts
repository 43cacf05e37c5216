/**
 * What a channel's values need to read well, learnt from any GR or CTRL reply seen for it (a display
 * manager's first read, an archiver's monitor) and kept for the channel: precision, units, enum strings.
 * The Channels view and the live summary of later plain or TIME updates use it, so a FLOAT shows `42.26 mm`
 * and an ENUM `Off` even when the message itself carries only the number.
 */
import { dbrMetaKind } from '@ca-shark/protocol';

/** Precision, units and enum strings of a channel, as far as known. */
export interface ChannelDisplay {
  precision?: number;
  units?: string;
  enumStrings?: readonly string[];
}

/** The display fields of the decoder's DBR metadata. */
interface DisplayMetadata {
  precision?: unknown;
  units?: unknown;
  enumStrings?: unknown;
}

function sameStrings(a: readonly string[] | undefined, b: readonly string[] | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * `known` updated with what a reply of DBR type `dataType` carries in `metadata`; the same object when the
 * reply teaches nothing new. Only GR and CTRL types carry display metadata, and an archiver's CTRL monitor
 * repeats it in every update: those cost a few comparisons and allocate nothing.
 */
export function learnDisplay(
  known: ChannelDisplay | null,
  dataType: unknown,
  metadata: unknown,
): ChannelDisplay | null {
  if (typeof dataType !== 'number' || typeof metadata !== 'object' || metadata === null) return known;
  const kind = dbrMetaKind(dataType);
  // GR_ENUM and CTRL_ENUM have their own metadata layout ('enum'): the state strings.
  if (kind !== 'gr' && kind !== 'ctrl' && kind !== 'enum') return known;
  const m = metadata as DisplayMetadata;
  const precision = typeof m.precision === 'number' ? m.precision : known?.precision;
  const units = typeof m.units === 'string' && m.units !== '' ? m.units : known?.units;
  const strings =
    Array.isArray(m.enumStrings) && m.enumStrings.every((s) => typeof s === 'string')
      ? (m.enumStrings as string[])
      : known?.enumStrings;
  if (
    known !== null &&
    precision === known.precision &&
    units === known.units &&
    sameStrings(strings, known.enumStrings)
  )
    return known;
  if (precision === undefined && units === undefined && strings === undefined) return known;
  return {
    ...(precision !== undefined ? { precision } : {}),
    ...(units !== undefined ? { units } : {}),
    ...(strings !== undefined ? { enumStrings: strings } : {}),
  };
}

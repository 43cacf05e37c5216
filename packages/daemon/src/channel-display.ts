/**
 * What a channel's values need to read well, learnt from any GR or CTRL reply seen for it (a display
 * manager's first read, an archiver's monitor) and kept for the channel: precision, units, enum strings.
 * The Channels view and the live summary of later plain or TIME updates use it, so a FLOAT shows `42.26 mm`
 * and an ENUM `Off` even when the message itself carries only the number.
 */
import { valueFormatOf } from '@ca-shark/analysis/summary';
import { dbrMetaKind } from '@ca-shark/protocol';

/** Precision, units and enum strings of a channel, as far as known. */
export interface ChannelDisplay {
  precision?: number;
  units?: string;
  enumStrings?: readonly string[];
}

/**
 * `known` updated with what a reply of DBR type `dataType` carries in `metadata`; the same object when the
 * reply teaches nothing (only GR and CTRL types carry display metadata, so most updates cost one lookup).
 */
export function learnDisplay(
  known: ChannelDisplay | null,
  dataType: unknown,
  metadata: unknown,
): ChannelDisplay | null {
  if (typeof dataType !== 'number') return known;
  const kind = dbrMetaKind(dataType);
  // GR_ENUM and CTRL_ENUM have their own metadata layout ('enum'): the state strings.
  if (kind !== 'gr' && kind !== 'ctrl' && kind !== 'enum') return known;
  const { precision, units, enumStrings } = valueFormatOf(metadata);
  if (precision === undefined && units === undefined && enumStrings === undefined) return known;
  return {
    ...known,
    ...(precision !== undefined ? { precision } : {}),
    ...(units !== undefined ? { units } : {}),
    ...(enumStrings !== undefined ? { enumStrings } : {}),
  };
}

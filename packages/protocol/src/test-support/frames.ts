import { Deframer } from '../deframer.js';
import type { CaFault, CaFrame } from '../types.js';

/** Deframes a whole stream and returns the frames (payload views copied). Throws on faults. */
export function framesOf(bytes: Uint8Array): CaFrame[] {
  const out: CaFrame[] = [];
  const faults: CaFault[] = [];
  const d = new Deframer();
  const keep = (f: CaFrame) => out.push({ ...f, payload: f.payload.slice(), bytes: f.bytes.slice() });
  d.push(bytes, keep, (f) => faults.push(f));
  d.end(keep, (f) => faults.push(f));
  if (faults.length > 0) throw new Error(`unexpected faults: ${JSON.stringify(faults.map((f) => f.message))}`);
  return out;
}

/** The single frame of a one-message stream. */
export function frameOf(bytes: Uint8Array): CaFrame {
  const fs = framesOf(bytes);
  if (fs.length !== 1) throw new Error(`expected 1 frame, got ${fs.length}`);
  return fs[0];
}

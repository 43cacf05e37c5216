/**
 * DataViews of the bytes being decoded, for their big-endian header fields: one bounds-checked load a 16-
 * or 32-bit field, where indexing read them a byte at a time.
 */

const EMPTY = new Uint8Array(0);

/** The bytes {@link viewOf} made its view of, and that view. */
let viewBytes: Uint8Array = EMPTY;
let view: DataView<ArrayBufferLike> = new DataView(EMPTY.buffer, EMPTY.byteOffset, 0);

/**
 * A DataView of exactly `bytes`, kept while the same bytes come again: the frames of a pushed slice share
 * one view of it, so a view is made once a slice (and the link and IP layers of a frame share it). Its
 * reads are bounds-checked against `bytes` as indexing is, but throw past the end where indexing gave
 * undefined: its callers read only headers whose length they have checked.
 */
export function viewOf(bytes: Uint8Array): DataView<ArrayBufferLike> {
  if (bytes !== viewBytes) {
    viewBytes = bytes;
    view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }
  return view;
}

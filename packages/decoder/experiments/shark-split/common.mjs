export const NSLOTS = 4;
export const SLOT_BYTES = 4 << 20;
export const SLOT_HEADER = 16; // i32 used, i32 last
export const K = { UDP: 1, DATA: 2, GAP: 3, OPEN: 4, CLOSE: 5, PROBLEM: 6, PACKET: 7, FLOW: 8 };
export const REASONS = ['fin', 'rst', 'timeout', 'evicted'];

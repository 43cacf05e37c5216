/**
 * The files the daemon spools to (stdin's packets, sources/spool.ts; held records, history-spool.ts): made
 * in the user's `--spool-dir` and unlinked at once, so the system frees them however the daemon ends.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, statfsSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A spool write that takes longer than this (ms) makes that spool give up for good (a stalled disk, a hung
 * network mount): stdin's spool (its reader waits for each write) and the history's (its writes are
 * synchronous on the decoding thread, which live capture must not wait on) keep what follows in memory.
 */
export const SLOW_SPOOL_WRITE_MS = 2000;

/** `statfs`'s type of a tmpfs (Linux's TMPFS_MAGIC): its files are kept in memory. */
const TMPFS_MAGIC = 0x01021994;

/**
 * Makes a new file in `dir` (named `.PREFIX-PID-RANDOM`, opened for reading and writing, owner only) and
 * unlinks it; returns its descriptor. Throws with the system's reason when the directory is missing or not
 * writable, or when the file cannot be removed (it would be left behind).
 */
export function openUnlinkedFile(dir: string, prefix: string): number {
  const path = join(dir, `.${prefix}-${process.pid}-${randomBytes(6).toString('hex')}`);
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
  try {
    unlinkSync(path);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return fd;
}

/**
 * Whether `dir` is on a tmpfs (Linux): a file there is kept in memory, outside the daemon's RSS, so
 * spooling to it saves none (many systems mount /tmp so, the default directory). False when unknown.
 */
export function onTmpfs(dir: string): boolean {
  try {
    return statfsSync(dir).type === TMPFS_MAGIC;
  } catch {
    return false;
  }
}

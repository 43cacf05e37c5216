import { readFileSync } from 'node:fs';
import { DaemonError } from './errors.js';

/** uid and gid of a local user from /etc/passwd. */
export function lookupUser(name: string, passwd = '/etc/passwd'): { uid: number; gid: number } {
  let text: string;
  try {
    text = readFileSync(passwd, 'utf8');
  } catch {
    throw new DaemonError('no-such-user', `cannot look up user "${name}": ${passwd} is not readable`);
  }
  for (const line of text.split('\n')) {
    const fields = line.split(':');
    if (fields[0] === name && fields.length >= 4) return { uid: Number(fields[2]), gid: Number(fields[3]) };
  }
  throw new DaemonError('no-such-user', `--user ${name}: no such user in ${passwd}`);
}

/**
 * Drops root for `name` (group list, group, then user, in that order: after setuid the others are no longer
 * allowed). The open capture handle keeps working; nothing new can be opened afterwards.
 */
export function dropPrivileges(name: string): { uid: number; gid: number } {
  const { uid, gid } = lookupUser(name);
  if (typeof process.setuid !== 'function' || typeof process.setgid !== 'function') {
    throw new DaemonError('no-such-user', '--user is not supported on this platform');
  }
  if (process.getuid?.() !== 0) {
    throw new DaemonError('no-such-user', `--user ${name} needs the daemon to start as root`);
  }
  // Supplementary groups of the user replace root's (initgroups is POSIX-only, hence the optional call).
  (process as { initgroups?: (user: string, extraGroup: number) => void }).initgroups?.(name, gid);
  process.setgid(gid);
  process.setuid(uid);
  return { uid, gid };
}

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

/** process.setuid and setgid, which only POSIX platforms have. */
function userSwitch(): { setuid: (id: number) => void; setgid: (id: number) => void } {
  const { setuid, setgid } = process;
  if (typeof setuid !== 'function' || typeof setgid !== 'function') {
    throw new DaemonError('no-such-user', '--user is not supported on this platform');
  }
  return { setuid: setuid.bind(process), setgid: setgid.bind(process) };
}

/** What {@link checkUser} looks at (tests replace the password file and the current uid). */
export interface UserCheckEnvironment {
  passwd?: string;
  /** The daemon's uid; default process.getuid(). */
  uid?: number;
}

/**
 * Checks that the daemon can become user `name` (the user exists, this platform can switch users, the
 * daemon runs as root) and returns its ids. Called before any source is opened or port bound, so that a
 * wrong `--user` costs nothing and fails with one line.
 */
export function checkUser(name: string, env: UserCheckEnvironment = {}): { uid: number; gid: number } {
  const ids = lookupUser(name, env.passwd);
  userSwitch();
  if ((env.uid ?? process.getuid?.()) !== 0) {
    throw new DaemonError('no-such-user', `--user ${name} needs the daemon to start as root`);
  }
  return ids;
}

/**
 * Drops root for `name` (group list, group, then user, in that order: after setuid the others are no longer
 * allowed). The open capture handle keeps working; nothing new can be opened afterwards.
 */
export function dropPrivileges(name: string): { uid: number; gid: number } {
  const { uid, gid } = checkUser(name);
  const { setuid, setgid } = userSwitch();
  // Supplementary groups of the user replace root's (initgroups is POSIX-only, hence the optional call).
  (process as { initgroups?: (user: string, extraGroup: number) => void }).initgroups?.(name, gid);
  setgid(gid);
  setuid(uid);
  return { uid, gid };
}

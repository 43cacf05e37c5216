import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DaemonError } from './errors.js';
import { checkUser } from './privileges.js';
import { DAEMON_MAIN, errorLines, runProgram } from './test-support/programs.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = { uid: 65534, gid: 65534 };
const fixture = fileURLToPath(new URL('../../packet/fixtures/ca_monitor.pcapng', import.meta.url));

let dir: string;
let passwd: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ca-sharkd-user-'));
  passwd = join(dir, 'passwd');
  writeFileSync(passwd, 'root:x:0:0:root:/root:/bin/sh\ncapture:x:1234:4321::/nonexistent:/usr/sbin/nologin\n');
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkUser', () => {
  it('returns the ids of a user the daemon (root) can switch to', () => {
    expect(checkUser('capture', { passwd, uid: 0 })).toEqual({ uid: 1234, gid: 4321 });
  });

  it('refuses an unknown user and a daemon that is not root, with one line', () => {
    expect(() => checkUser('nobody-here', { passwd, uid: 0 })).toThrow(
      new DaemonError('no-such-user', `--user nobody-here: no such user in ${passwd}`),
    );
    expect(() => checkUser('capture', { passwd, uid: 1000 })).toThrow(
      /^--user capture needs the daemon to start as root$/,
    );
  });
});

describe('--user is checked before the source opens or the port is bound', { timeout: 120_000 }, () => {
  it.skipIf(!isRoot)('not root: the --user error, not the missing file, and nothing bound', async () => {
    const r = await runProgram(
      DAEMON_MAIN,
      ['-r', '/nonexistent/capture.pcap', '--user', 'daemon', '--listen', '127.0.0.1:0'],
      { user: NOBODY },
    );
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr, 'ca-sharkd')).toEqual(['--user daemon needs the daemon to start as root']);
  });

  it.skipIf(!isRoot)('a missing user is reported even when the port is taken', async () => {
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const r = await runProgram(DAEMON_MAIN, [
        '-r',
        fixture,
        '--user',
        'no-such-user-x',
        '--listen',
        `127.0.0.1:${port}`,
      ]);
      expect(r.code).toBe(1);
      expect(errorLines(r.stderr, 'ca-sharkd')).toEqual(['--user no-such-user-x: no such user in /etc/passwd']);
    } finally {
      busy.close();
    }
  });
});

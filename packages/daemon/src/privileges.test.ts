import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
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

describe('--user and the spool directory', { timeout: 120_000 }, () => {
  it.skipIf(!isRoot)(
    'makes the history spool before dropping root: a directory only root writes still takes it',
    async () => {
      // 40,000 records: two full chunks of 16,384 go to the history spool (history-spool.ts).
      const writer = new PcapWriter();
      for (let i = 0; i < 40_000; i++)
        writer.udp(
          1_700_000_000 + i / 1000,
          '10.0.0.5',
          45555,
          '10.0.0.255',
          5064,
          build.searchRequest({ name: `S:${i}`, cid: i }),
        );
      const file = join(dir, 'searches.pcap');
      writeFileSync(file, concatBytes(writer.drain()));
      const spoolDir = join(dir, 'root-only');
      mkdirSync(spoolDir, { mode: 0o700 });
      const r = await runProgram(DAEMON_MAIN, [
        '-r',
        file,
        '--speed',
        'max',
        '--exit-on-eof',
        '--listen',
        '127.0.0.1:0',
        '--user',
        'nobody',
        '--spool-dir',
        spoolDir,
      ]);
      expect(r.code).toBe(0);
      expect(r.stderr).toMatch(/"user":"nobody".*dropped root privileges/);
      expect(r.stderr).not.toMatch(/cannot spool/);
      // The summary's stats: both full chunks written to the file made before the drop.
      expect(r.stderr).toMatch(/"spool":\{"dir":"[^"]*root-only","tmpfs":false,"chunksWritten":2,/);
      expect(readdirSync(spoolDir)).toEqual([]);
    },
  );
});

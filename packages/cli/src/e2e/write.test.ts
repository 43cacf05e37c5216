/**
 * `ca-shark --write OUT [filters] [FILE]`: the packets of the matching messages as pcapng, read back by
 * ca-shark (same messages) and by tshark.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { build, DbrType } from '@ca-shark/protocol';
import { pcapFile, TcpConversation, type Packet } from '../test-support/capture.js';
import { ensureBuilt, fixture, lines, plainEnv, runCli, runCliWithStdin, startCli } from '../test-support/cli.js';

vi.setConfig({ testTimeout: 60_000 });

let dir: string;
beforeAll(async () => {
  await ensureBuilt();
  dir = mkdtempSync(join(tmpdir(), 'ca-shark-write-test-'));
}, 180_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * `--json` records without what differs between a capture and the export of some of its packets: frame
 * numbers and TCP flow ids (`circuit`: the export has fewer packets and flows, numbered anew) and the last
 * bits of times (pcap stores seconds and microseconds, pcapng microsecond ticks: the same instant, a double
 * apart).
 */
function comparable(json: string): unknown[] {
  return lines(json).map((line) => {
    const r = JSON.parse(line) as Record<string, unknown> & { request?: Record<string, unknown> };
    delete r.frame;
    delete r.circuit;
    r.timestamp = Math.round((r.timestamp as number) * 1e6);
    if (r.request !== undefined) {
      delete r.request.frame;
      r.request.timestamp = Math.round((r.request.timestamp as number) * 1e6);
    }
    if (typeof r.latency === 'number') r.latency = Math.round(r.latency * 1e6);
    return r;
  });
}

const hasTshark = ((): boolean => {
  try {
    execFileSync('which', ['tshark'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/**
 * One circuit with two channels, `keep:a` and `skip:b`, whose requests and replies interleave in separate
 * segments. Every reply of `skip:b` is a 1000-element waveform split over two server segments, and the
 * reply of `keep:a` shares one of them: after the waveform's tail, or before its head (cut inside the
 * header, after it, or deep in the payload). Exporting `keep:a` leaves holes in both directions.
 */
function interleavedCapture(): Uint8Array {
  const c = new TcpConversation('10.0.0.1', 40001, '10.0.0.2', 5064);
  const startUs = 1_700_000_000 * 1e6;
  let step = 0;
  const tick = (): number => (startUs + ++step * 1000) / 1e6;
  const packets: Packet[] = [...c.handshake(tick())];
  packets.push(c.fromClient(tick(), build.versionRequest(), build.hostNameRequest({ name: 'h' })));
  packets.push(c.fromServer(tick(), build.versionResponse()));
  const a = { name: 'keep:a', cid: 1, sid: 101, type: DbrType.DOUBLE, count: 1 };
  const b = { name: 'skip:b', cid: 2, sid: 102, type: DbrType.DOUBLE, count: 1000 };
  for (const ch of [a, b]) packets.push(c.fromClient(tick(), build.createChanRequest({ name: ch.name, cid: ch.cid })));
  for (const ch of [a, b]) {
    packets.push(
      c.fromServer(
        tick(),
        build.accessRightsResponse({ cid: ch.cid, access_rights: 3 }),
        build.createChanResponse({ data_type: ch.type, data_count: ch.count, cid: ch.cid, sid: ch.sid }),
      ),
    );
  }
  // Where each waveform is split: inside its header, right after it, inside the payload.
  const cuts = [8, 3000, 16, 2000, 40, 7000];
  cuts.forEach((cut, i) => {
    const ioB = 2 * i + 1;
    const ioA = 2 * i + 2;
    packets.push(
      c.fromClient(tick(), build.readNotifyRequest({ data_type: b.type, data_count: b.count, sid: b.sid, ioid: ioB })),
    );
    packets.push(c.fromClient(tick(), build.readNotifyRequest({ data_type: a.type, sid: a.sid, ioid: ioA })));
    const waveform = build.readNotifyResponse({
      data_type: b.type,
      data: Array.from({ length: b.count }, (_, k) => Math.sin(k / 7 + i) * 50),
      ioid: ioB,
    });
    const reply = build.readNotifyResponse({ data_type: a.type, data: [i + 0.5], ioid: ioA });
    if (i % 2 === 0) {
      packets.push(c.fromServer(tick(), reply, waveform.subarray(0, cut)));
      packets.push(c.fromServer(tick(), waveform.subarray(cut)));
    } else {
      packets.push(c.fromServer(tick(), waveform.subarray(0, cut)));
      packets.push(c.fromServer(tick(), waveform.subarray(cut), reply));
    }
  });
  return pcapFile(packets);
}

describe('--write', () => {
  // Filters that keep whole conversations (their handshakes and channel creations), so that ca-shark
  // decodes the written packets as it decoded the capture.
  const cases: [string, string[]][] = [
    ['catest.pcap', []],
    ['catest.pcap', ['--pv', 'test:wf']],
    ['catest.pcap', ['--pv', 'test:cnt', '--pv', 'test:wf.NORD']],
    ['catest.pcap', ['--command', 'search']],
    ['ca_arrays.pcapng', []],
    ['ca_monitor2.pcapng', ['--pv', 'T1:*']],
  ];
  it.each(cases)(
    '%s %j: ca-shark --json on the output equals the filtered --json of the input',
    async (name, filters) => {
      const out = join(dir, `${name}-${filters.join('_').replace(/[^\w]/g, '')}.pcapng`);
      const written = await runCli(['--write', out, ...filters, fixture(name)]);
      expect(written.code, written.stderr).toBe(0);
      const input = await runCli(['--json', ...filters, fixture(name)]);
      const output = await runCli(['--json', ...filters, out]);
      expect(output.code).toBe(0);
      expect(comparable(output.stdout)).toEqual(comparable(input.stdout));
      const count = lines(input.stdout).length;
      expect(written.stderr).toMatch(
        new RegExp(`^ca-shark: wrote \\d+ packets carrying ${count} matching messages to `),
      );
      // Without the filter the output holds no message that is not in a packet of a matching one.
      const everything = await runCli(['--json', out]);
      expect(lines(everything.stdout).length).toBeGreaterThanOrEqual(count);
    },
  );

  it('exports a circuit whose other messages are left out: the same messages, in the same order', async () => {
    // Before: the reader held the bytes after each hole up to the 10 s gap timeout (to the end of the
    // capture here), so replies came before their requests, with the times of later packets; and a written
    // segment holding part of a waveform left the reader hunting for the next header.
    const input = join(dir, 'interleaved.pcap');
    writeFileSync(input, interleavedCapture());
    const out = join(dir, 'interleaved.pcapng');
    const written = await runCli(['--write', out, '--pv', 'keep:a', input]);
    expect(written.code, written.stderr).toBe(0);
    const original = await runCli(['--json', '--pv', 'keep:a', input]);
    const back = await runCli(['--json', '--pv', 'keep:a', out]);
    expect(lines(original.stdout)).toHaveLength(3 + 6 * 2);
    expect(comparable(back.stdout)).toEqual(comparable(original.stdout));
    expect(back.stderr).not.toMatch(/cut short|malformed/);
  });

  it('reads stdin and writes to stdout', async () => {
    const bytes = readFileSync(fixture('ca_monitor2.pcapng'));
    const child = startCli(['-w', '-', '--pv', 'T2:cnt']);
    const out: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stdin.end(bytes);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(0);
    const pcapng = Buffer.concat(out);
    // Section header block type first.
    expect(pcapng.readUInt32LE(0)).toBe(0x0a0d0d0a);
    const back = await runCli(['--json', '--pv', 'T2:cnt'], { input: pcapng });
    const input = await runCli(['--json', '--pv', 'T2:cnt', fixture('ca_monitor2.pcapng')]);
    expect(comparable(back.stdout)).toEqual(comparable(input.stdout));
  });

  it('reads stdin redirected from a file in place, from where its descriptor stands', async () => {
    // Before, stdin was always copied to a temporary file first: with nowhere to put it (TMPDIR missing
    // here; a tmpfs smaller than the capture on a real machine) the export failed.
    const capture = readFileSync(fixture('ca_monitor2.pcapng'));
    const skipped = Buffer.from('bytes a shell read before ca-shark started\n');
    const input = join(dir, 'redirected.pcapng');
    writeFileSync(input, Buffer.concat([skipped, capture]));
    const fd = openSync(input, 'r');
    readSync(fd, Buffer.alloc(skipped.length), 0, skipped.length, null);
    const out = join(dir, 'redirected-out.pcapng');
    const running = runCliWithStdin(fd, ['-w', out, '--pv', 'T2:cnt'], plainEnv({ TMPDIR: join(dir, 'no-such-tmp') }));
    closeSync(fd);
    const written = await running;
    expect(written.code, written.stderr).toBe(0);
    const byPath = join(dir, 'by-path.pcapng');
    expect((await runCli(['-w', byPath, '--pv', 'T2:cnt', fixture('ca_monitor2.pcapng')])).code).toBe(0);
    expect(readFileSync(out)).toEqual(readFileSync(byPath));
    // A pipe still needs the copy, and says so when it cannot be made (it named the output before).
    const piped = await runCli(['-w', join(dir, 'piped.pcapng'), '--pv', 'T2:cnt'], {
      input: capture,
      env: plainEnv({ TMPDIR: join(dir, 'no-such-tmp') }),
    });
    expect(piped.code).toBe(2);
    expect(piped.stderr).toMatch(
      /^ca-shark: cannot copy stdin to a temporary file \(--write reads its input twice\): ENOENT: .*no-such-tmp/,
    );
  });

  it('says a read of stdin failed as the printing modes do (a descriptor open for writing only)', async () => {
    const fd = openSync(join(dir, 'write-only'), 'w');
    const running = runCliWithStdin(fd, ['-w', join(dir, 'never.pcapng')]);
    closeSync(fd);
    expect(await running).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: 'ca-shark: <stdin>: EBADF: bad file descriptor, read\n',
    });
  });

  it.runIf(hasTshark)('writes a file tshark reads, packet for packet', async () => {
    const out = join(dir, 'tshark.pcapng');
    const written = await runCli(['-w', out, '--pv', 'test:cnt', fixture('catest.pcap')]);
    const packets = Number(/wrote (\d+) packets/.exec(written.stderr)?.[1]);
    expect(packets).toBeGreaterThan(0);
    const text = execFileSync('tshark', ['-r', out, '-T', 'fields', '-e', 'frame.number', '-e', 'tcp.dstport'], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    expect(lines(text)).toHaveLength(packets);
  });

  it('exits 1 when nothing matched (the file holds no packet) and 2 on bad usage', async () => {
    const out = join(dir, 'none.pcapng');
    const none = await runCli(['-w', out, '--pv', 'no:such:pv', fixture('catest.pcap')]);
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/wrote 0 packets carrying 0 matching messages/);
    expect((await runCli(['--json', out])).code).toBe(1);
    for (const args of [
      ['-w', out, '--json', fixture('catest.pcap')],
      ['-w', out, fixture('catest.pcap'), fixture('catest.pcap')],
      ['stats', '-w', out, fixture('catest.pcap')],
    ]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/--write/);
    }
    const missing = await runCli(['-w', out, join(dir, 'missing.pcap')]);
    expect(missing.code).toBe(2);
    const unwritable = await runCli(['-w', join(dir, 'no', 'such', 'dir.pcapng'), fixture('catest.pcap')]);
    expect(unwritable.code).toBe(2);
    expect(unwritable.stderr).toMatch(/cannot write/);
  });
});

import { describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  measure,
  measuredEnv,
  parseDaemonSummary,
  parseGnuTime,
  pipeline,
  readThrough,
  shellQuote,
} from './measure.js';

describe('parseGnuTime', () => {
  it('reads wall, CPU (user + system) and peak RSS from the last line', () => {
    expect(parseGnuTime('1.50 0.75 0.25 204800\n')).toEqual({ wallS: 1.5, cpuS: 1, rssMb: 200 });
    expect(parseGnuTime('Command terminated by signal 15\n0.10 0.00 0.01 1024\n')).toEqual({
      wallS: 0.1,
      cpuS: 0.01,
      rssMb: 1,
    });
  });

  it('gives undefined for anything else', () => {
    expect(parseGnuTime('')).toBeUndefined();
    expect(parseGnuTime('Command exited with non-zero status 1')).toBeUndefined();
  });
});

describe('pipeline', () => {
  it('quotes words bash would split or expand', () => {
    expect(shellQuote('/tmp/a.pcap')).toBe('/tmp/a.pcap');
    expect(shellQuote("it's $HOME")).toBe(`'it'\\''s $HOME'`);
  });

  it('feeds from cat, times only the command, and counts or discards its output', () => {
    expect(pipeline({ argv: ['node', 'd.js', '--stdin'], catFile: '/x y.pcap', timeoutMs: 1 }, '/t')).toBe(
      "set -o pipefail; cat '/x y.pcap' | /usr/bin/time -o /t -f '%e %U %S %M' node d.js --stdin > /dev/null",
    );
    expect(pipeline({ argv: ['ca-shark', 'f'], countLines: true, timeoutMs: 1 }, '/t')).toMatch(/ca-shark f \| wc -l$/);
    expect(pipeline({ argv: ['x'], stdoutTo: 'capture', timeoutMs: 1 }, '/t')).toMatch(/ x$/);
  });
});

describe('measure', () => {
  it('measures a command fed through a pipe and counts its lines', async () => {
    const m = await measure({
      argv: ['grep', '-c', 'b'],
      catFile: '/etc/passwd',
      stdoutTo: 'capture',
      timeoutMs: 20000,
    });
    expect(m.exitCode).toBe(0);
    expect(m.timedOut).toBe(false);
    expect(Number(m.stdout)).toBeGreaterThan(0);
    expect(m.rssMb).toBeGreaterThan(0);
    expect(m.wallS).toBeGreaterThanOrEqual(0);
    const lines = await measure({ argv: ['printf', 'a\\nb\\nc\\n'], countLines: true, timeoutMs: 20000 });
    expect(lines.stdout.trim()).toBe('3');
  });

  it('reports a failing command by its exit status', async () => {
    const m = await measure({ argv: ['false'], timeoutMs: 20000 });
    expect(m.exitCode).toBe(1);
  });

  it('runs the command without NODE_EXTRA_CA_CERTS, and with the rest of the environment', async () => {
    const saved = { certs: process.env.NODE_EXTRA_CA_CERTS, other: process.env.CA_SHARK_BENCH_PROBE };
    process.env.NODE_EXTRA_CA_CERTS = '/nonexistent/bundle.pem';
    process.env.CA_SHARK_BENCH_PROBE = 'kept';
    try {
      const m = await measure({ argv: ['env'], stdoutTo: 'capture', timeoutMs: 20000 });
      expect(m.stdout).not.toContain('NODE_EXTRA_CA_CERTS');
      expect(m.stdout).toContain('CA_SHARK_BENCH_PROBE=kept');
    } finally {
      if (saved.certs === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
      else process.env.NODE_EXTRA_CA_CERTS = saved.certs;
      if (saved.other === undefined) delete process.env.CA_SHARK_BENCH_PROBE;
      else process.env.CA_SHARK_BENCH_PROBE = saved.other;
    }
    expect(measuredEnv({ NODE_EXTRA_CA_CERTS: 'x', PATH: '/bin' })).toEqual({ PATH: '/bin' });
  });

  it('kills a command that outlives its time limit, with its whole process group', async () => {
    const m = await measure({ argv: ['sleep', '30'], timeoutMs: 200 });
    expect(m.timedOut).toBe(true);
    expect(m.exitCode).not.toBe(0);
  });
});

describe('parseDaemonSummary', () => {
  const summary = (fields: Record<string, unknown>): string =>
    JSON.stringify({ level: 30, name: 'ca-sharkd', msg: 'capture summary', ...fields });

  it('takes messages, malformed and drops from the last "capture summary" line', () => {
    const stderr = [
      '{"level":30,"msg":"listening"}',
      summary({ messages: 5, malformed: 0, decoderDropped: 0, capture: { dropped: 0 } }),
      'not json "capture summary"',
      summary({ messages: 299444, malformed: 2, decoderDropped: 26000, capture: { received: 0, dropped: 7 } }),
      'ca-sharkd: 74873 packets ...',
    ].join('\n');
    expect(parseDaemonSummary(stderr)).toEqual({
      messages: 299444,
      malformed: 2,
      decoderDropped: 26000,
      captureDropped: 7,
    });
  });

  it('is undefined when the daemon stopped before its summary', () => {
    expect(parseDaemonSummary('{"level":50,"msg":"cannot open file"}\n')).toBeUndefined();
  });
});

describe('readThrough', () => {
  it('reads a file from end to end, past one read, and an empty one', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ca-shark-read-through-'));
    try {
      const big = join(dir, 'big');
      writeFileSync(big, new Uint8Array(3 * 1024 * 1024 + 5));
      expect(await readThrough(big)).toBe(3 * 1024 * 1024 + 5);
      const empty = join(dir, 'empty');
      writeFileSync(empty, '');
      expect(await readThrough(empty)).toBe(0);
      await expect(readThrough(join(dir, 'missing'))).rejects.toThrow(/ENOENT/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

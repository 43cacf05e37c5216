import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exposureWarning, parseCommandLine, parseListen, parseSize, USAGE } from './cli.js';
import { DaemonError } from './errors.js';
import { DEFAULT_DECODER_NICE } from './thread-nice.js';
import { caFilter } from './sources/live.js';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const isRoot = process.getuid?.() === 0;

/** Runs the CLI from source (tsx, workspace packages through their `source` export condition). */
function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', MAIN, ...args], {
      cwd: PACKAGE_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 80_000);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One line on stderr, no stack trace. */
function expectOneLine(stderr: string): void {
  // The lines themselves in the failure: a second line seen once under load was not (session 17).
  expect(stderr.trimEnd().split('\n'), stderr).toHaveLength(1);
  expect(stderr).not.toMatch(/\n\s+at /);
  expect(stderr).toMatch(/^ca-sharkd: /);
}

describe('command line', () => {
  it('parses sources, ports, sizes and the listen address', () => {
    expect(parseCommandLine(['-i', 'eth0'], {})).toMatchObject({
      mode: 'live',
      iface: 'eth0',
      host: '127.0.0.1',
      port: 8080,
      serverPort: 5064,
      repeaterPort: 5065,
    });
    expect(parseCommandLine(['--demo'], {})).toMatchObject({ mode: 'demo' });
    expect(parseCommandLine(['-i', 'lo', '--demo'], {})).toMatchObject({ mode: 'demo', iface: 'lo' });
    expect(parseCommandLine(['-r', 'x.pcap', '--speed', '10'], {})).toMatchObject({
      mode: 'file',
      file: 'x.pcap',
      speed: 10,
    });
    expect(parseCommandLine(['-r', 'x.pcap', '--speed', 'max'], {})).toMatchObject({ speed: 'max' });
    expect(parseCommandLine(['--stdin', '--exit-on-eof', '--ports', '6064,6065'], {})).toMatchObject({
      mode: 'stdin',
      exitOnEof: true,
      serverPort: 6064,
      repeaterPort: 6065,
    });
    expect(parseCommandLine(['-i', 'lo', '--buffer-size', '64M', '--snaplen', '1500'], {})).toMatchObject({
      bufferSize: 64 * 1024 * 1024,
      snaplen: 1500,
    });
    expect(parseCommandLine(['-i', 'lo'], { CA_SHARKD_TOKEN: 'abc', EPICS_CA_SERVER_PORT: '7064' })).toMatchObject({
      token: 'abc',
      serverPort: 7064,
    });
    expect(parseListen('0.0.0.0:9000')).toEqual({ host: '0.0.0.0', port: 9000 });
    expect(parseListen('[::1]:9000')).toEqual({ host: '::1', port: 9000 });
    expect(parseSize('512K', '--x')).toBe(512 * 1024);
    expect(parseCommandLine(['-i', 'lo', '--max-lag', '1500'], {})).toMatchObject({ maxDecoderLagMs: 1500 });
    expect(parseCommandLine(['--demo', '--max-lag', 'none'], {})).toMatchObject({ maxDecoderLagMs: Infinity });
    expect(parseCommandLine(['-i', 'lo'], {}).maxDecoderLagMs).toBeUndefined();
    expect(parseCommandLine(['-i', 'lo', '--hold-lag', '600'], {})).toMatchObject({ holdDecoderLagMs: 600 });
    expect(parseCommandLine(['-i', 'lo', '--hold-lag', 'none'], {})).toMatchObject({ holdDecoderLagMs: Infinity });
    expect(parseCommandLine(['--stdin', '--spool-dir', '/var/tmp'], {})).toMatchObject({ spoolDir: '/var/tmp' });
    expect(parseCommandLine(['--stdin', '--spool-dir', 'none'], {})).toMatchObject({ spoolDir: null });
    // The held records' spool (history-spool.ts) takes it in every mode.
    expect(parseCommandLine(['-r', 'x.pcap', '--spool-dir', '/var/tmp'], {})).toMatchObject({ spoolDir: '/var/tmp' });
    expect(parseCommandLine(['-i', 'lo', '--spool-dir', 'none'], {})).toMatchObject({ spoolDir: null });
    expect(parseCommandLine(['--stdin'], {}).spoolDir).toBeUndefined();
  });

  it("takes the decoding thread's nice from --decoder-nice, else CA_SHARKD_DECODER_NICE, else the default", () => {
    expect(parseCommandLine(['-i', 'lo'], {}).decoderNice).toBe(DEFAULT_DECODER_NICE);
    expect(parseCommandLine(['-r', 'x.pcap', '--decoder-nice', '0'], {}).decoderNice).toBe(0);
    expect(parseCommandLine(['-i', 'lo', '--decoder-nice', '19'], {}).decoderNice).toBe(19);
    expect(parseCommandLine(['-i', 'lo'], { CA_SHARKD_DECODER_NICE: '4' }).decoderNice).toBe(4);
    // The flag wins over the environment; an empty variable is no setting.
    expect(parseCommandLine(['-i', 'lo', '--decoder-nice', '6'], { CA_SHARKD_DECODER_NICE: '4' }).decoderNice).toBe(6);
    expect(parseCommandLine(['-i', 'lo'], { CA_SHARKD_DECODER_NICE: '' }).decoderNice).toBe(DEFAULT_DECODER_NICE);
    expect(USAGE).toContain('--decoder-nice N');
    for (const bad of ['20', '-1', '1.5', 'low', '']) {
      expect(() => parseCommandLine(['-i', 'lo', `--decoder-nice=${bad}`], {})).toThrow(/--decoder-nice .*0\.\.19/);
    }
    expect(() => parseCommandLine(['-i', 'lo'], { CA_SHARKD_DECODER_NICE: '25' })).toThrow(
      /CA_SHARKD_DECODER_NICE "25"/,
    );
  });

  it('rejects contradictory or malformed options with a usage error', () => {
    const usage = (args: string[]): void => {
      expect(() => parseCommandLine(args, {})).toThrow(DaemonError);
      try {
        parseCommandLine(args, {});
      } catch (err) {
        expect((err as DaemonError).code).toBe('usage');
      }
    };
    usage([]);
    usage(['-i', 'lo', '--stdin']);
    usage(['-i', 'lo', '--speed', '10']);
    usage(['-r', 'x', '--speed', 'fast']);
    usage(['-i', 'lo', '--listen', 'nowhere']);
    usage(['-i', 'lo', '--bogus']);
    usage(['--stdin', '-f', 'tcp']);
    usage(['-r', 'x.pcap', '--max-lag', '1000']);
    usage(['-i', 'lo', '--max-lag', '50']);
    usage(['-i', 'lo', '--max-lag', '1s']);
    usage(['-r', 'x.pcap', '--hold-lag', '400']);
    usage(['-i', 'lo', '--hold-lag', '10']);
    usage(['--stdin', '--spool-dir', '']);
  });

  it('builds the default CA filter for other ports and leaves out its own HTTP port', () => {
    expect(caFilter(6064, 6065, 8080)).toBe(
      '(tcp or (udp and (port 6064 or port 6065)) or (ip[6:2] & 0x3fff != 0)) and not tcp port 8080',
    );
  });
});

// Each run starts node with tsx and the workspace sources: seconds, not milliseconds, on a busy machine.
describe('ca-sharkd as a subprocess', { timeout: 90_000 }, () => {
  it('a bad interface name: one line naming it, non-zero exit', async () => {
    const r = await run(['-i', 'nosuchif0', '--listen', '127.0.0.1:0']);
    expect(r.code).not.toBe(0);
    expectOneLine(r.stderr);
    expect(r.stderr).toMatch(isRoot ? /no such interface "nosuchif0"/ : /nosuchif0|not permitted/);
  });

  it.skipIf(!isRoot)(
    'a bad capture filter: one line naming the filter, non-zero exit (root: libpcap compiles filters after opening)',
    async () => {
      const r = await run(['-i', 'lo', '-f', 'port nonsense', '--listen', '127.0.0.1:0']);
      expect(r.code).toBe(2);
      expectOneLine(r.stderr);
      expect(r.stderr).toMatch(/bad capture filter "port nonsense"/);
    },
  );

  it('an unreadable file and a file that is not a capture: one line each, exit 2', async () => {
    const missing = await run(['-r', '/nonexistent/capture.pcap', '--listen', '127.0.0.1:0']);
    expect(missing.code).toBe(2);
    expectOneLine(missing.stderr);
    expect(missing.stderr).toMatch(/^ca-sharkd: \/nonexistent\/capture\.pcap: no such file$/m);
    const text = await run([
      '-r',
      fileURLToPath(new URL('../package.json', import.meta.url)),
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(text.code).toBe(2);
    expectOneLine(text.stderr);
    expect(text.stderr).toMatch(/package\.json: input starts with 0x[0-9a-f]{8}, not a pcap or pcapng magic number$/m);
  });

  it('replays a file and exits at its end with a capture summary', async () => {
    const r = await run([
      '-r',
      fileURLToPath(new URL('../../packet/fixtures/ca_monitor2.pcapng', import.meta.url)),
      '--speed',
      'max',
      '--exit-on-eof',
      '--listen',
      '127.0.0.1:0',
      '--log-level',
      'warn',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/ca-sharkd: 29 packets \(\d+ bytes\), 33 CA messages \(0 malformed\)/);
  });

  it.skipIf(!isRoot)('--user drops root once the input is open (root only)', async () => {
    const r = await run([
      '-r',
      fileURLToPath(new URL('../../packet/fixtures/ca_monitor.pcapng', import.meta.url)),
      '--speed',
      'max',
      '--exit-on-eof',
      '--listen',
      '127.0.0.1:0',
      '--user',
      'nobody',
    ]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/"user":"nobody".*dropped root privileges/);
    expect(r.stderr).toMatch(/ca-sharkd: 20 packets/);
    const bad = await run([
      '-r',
      fileURLToPath(new URL('../../packet/fixtures/ca_monitor.pcapng', import.meta.url)),
      '--listen',
      '127.0.0.1:0',
      '--user',
      'no-such-user-x',
    ]);
    expect(bad.code).toBe(1);
    expectOneLine(bad.stderr);
    expect(bad.stderr).toMatch(/--user no-such-user-x: no such user/);
  });
});

describe('exposure', () => {
  it('parses repeatable --allow-host names and refuses URLs', () => {
    const config = parseCommandLine(['--stdin', '--allow-host', 'shark.example.org', '--allow-host', '10.0.0.5'], {});
    expect(config.allowHosts).toEqual(['shark.example.org', '10.0.0.5']);
    expect(parseCommandLine(['--stdin'], {}).allowHosts).toEqual([]);
    expect(() => parseCommandLine(['--stdin', '--allow-host', 'http://shark.example.org:8080'], {})).toThrow(
      /bad --allow-host/,
    );
  });

  it('warns about a non-loopback listener, loudest without a token', () => {
    expect(exposureWarning({ host: '127.0.0.1', port: 8080 })).toBeUndefined();
    expect(exposureWarning({ host: '::1', port: 8080 })).toBeUndefined();
    expect(exposureWarning({ host: '0.0.0.0', port: 8080 })).toMatch(
      /without --token: .*anyone who can reach this port/,
    );
    expect(exposureWarning({ host: '0.0.0.0', port: 8080, token: 't' })).toMatch(/TLS reverse proxy/);
  });
});

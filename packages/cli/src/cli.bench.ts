/**
 * `pnpm bench` for the CLI: the built `ca-shark` end to end (read, decode, format, write) on a generated
 * capture, or on a capture file you name, output to /dev/null. Prints messages/s, MB/s, messages per CPU
 * second and peak RSS for the default text lines, `--json`, `stats` and `report`.
 *
 *   pnpm --filter @ca-shark/cli bench [MESSAGES | CAPTURE.pcap]
 *
 * With a file, the message count is what `ca-shark stats` counts (one per line of the text output).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, MAIN } from './test-support/cli.js';
import { workloadCapture } from './test-support/capture.js';

const DEFAULT_MESSAGES = 200_000;
const TIME = '/usr/bin/time';

async function main(): Promise<void> {
  const arg = process.argv[2] ?? String(DEFAULT_MESSAGES);
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'ca-shark-cli-bench-'));
  try {
    let file: string;
    let messages: number;
    let size: number;
    if (/^\d+$/.test(arg)) {
      file = join(dir, 'workload.pcap');
      const capture = workloadCapture(Number(arg));
      writeFileSync(file, capture.bytes);
      messages = capture.messages;
      size = capture.bytes.length;
    } else {
      file = arg;
      size = statSync(file).size;
      messages = countMessages(file);
    }
    console.log(
      `cli bench: ${messages} CA messages, ${(size / 1e6).toFixed(1)} MB capture${file === arg ? ` (${file})` : ''}`,
    );
    for (const [label, args] of [
      ['text', [file]],
      ['--json', ['--json', file]],
      ['stats', ['stats', file]],
      ['report', ['report', file]],
    ] as const) {
      const devNull = openSync('/dev/null', 'w');
      const useTime = existsSync(TIME);
      const command = useTime ? TIME : process.execPath;
      const argv = useTime ? ['-f', '%M %U %S', process.execPath, MAIN, ...args] : [MAIN, ...args];
      const start = process.hrtime.bigint();
      const r = spawnSync(command, argv, { stdio: ['ignore', devNull, 'pipe'], encoding: 'utf8' });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      closeSync(devNull);
      // stats and report exit 1 when the capture has nothing to analyse; any other failure is fatal.
      if (r.status !== 0 && !(r.status === 1 && label !== 'text' && label !== '--json'))
        throw new Error(`ca-shark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      // /usr/bin/time's last line: peak RSS (KB), user and system CPU seconds. CPU time is the figure to
      // compare on a busy machine, where wall time also counts waiting for a core.
      const [rssKb, user, sys] = useTime
        ? (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number)
        : [NaN, NaN, NaN];
      const cpu = user + sys;
      console.log(
        `ca-shark ${label.padEnd(6)} ${Math.round(messages / seconds).toLocaleString('en-US')} messages/s, ` +
          `${(size / 1e6 / seconds).toFixed(1)} MB/s, ${seconds.toFixed(2)} s wall` +
          (Number.isFinite(cpu)
            ? `; ${Math.round(messages / cpu).toLocaleString('en-US')} messages per CPU second (${cpu.toFixed(2)} s CPU)`
            : '') +
          (Number.isFinite(rssKb) ? `, peak RSS ${(rssKb / 1024).toFixed(0)} MB` : ''),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Messages in a capture, as `ca-shark stats --json` counts them (one per line of the default output). */
function countMessages(file: string): number {
  const r = spawnSync(process.execPath, [MAIN, 'stats', '--json', file], {
    stdio: ['ignore', 'pipe', 'pipe'],
    encoding: 'utf8',
  });
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`ca-shark stats --json ${file} failed (${r.status}): ${r.stderr}`);
  return (JSON.parse(r.stdout) as { messages: number }).messages;
}

await main();

/**
 * `pnpm bench` for the CLI: the built `ca-shark` end to end (read, decode, JSON, write) on a generated
 * capture, output to /dev/null. Prints messages/s, MB/s and peak RSS for `--json` and for the default
 * text lines.
 *
 *   pnpm --filter @ca-shark/cli bench [MESSAGES]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureBuilt, MAIN } from './test-support/cli.js';
import { workloadCapture } from './test-support/capture.js';

const DEFAULT_MESSAGES = 200_000;
const TIME = '/usr/bin/time';

async function main(): Promise<void> {
  const wanted = Number(process.argv[2] ?? DEFAULT_MESSAGES);
  await ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'ca-shark-cli-bench-'));
  try {
    const file = join(dir, 'workload.pcap');
    const { bytes, messages } = workloadCapture(wanted);
    writeFileSync(file, bytes);
    console.log(`cli bench: ${messages} CA messages, ${(bytes.length / 1e6).toFixed(1)} MB capture`);
    for (const [label, args] of [
      ['--json', ['--json', file]],
      ['text', [file]],
    ] as const) {
      const devNull = openSync('/dev/null', 'w');
      const useTime = existsSync(TIME);
      const command = useTime ? TIME : process.execPath;
      const argv = useTime ? ['-f', '%M %U %S', process.execPath, MAIN, ...args] : [MAIN, ...args];
      const start = process.hrtime.bigint();
      const r = spawnSync(command, argv, { stdio: ['ignore', devNull, 'pipe'], encoding: 'utf8' });
      const seconds = Number(process.hrtime.bigint() - start) / 1e9;
      closeSync(devNull);
      if (r.status !== 0) throw new Error(`ca-shark ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
      // /usr/bin/time's last line: peak RSS (KB), user and system CPU seconds. CPU time is the figure to
      // compare on a busy machine, where wall time also counts waiting for a core.
      const [rssKb, user, sys] = useTime ? (r.stderr.trim().split('\n').pop() ?? '').split(' ').map(Number) : [NaN, NaN, NaN];
      const cpu = user + sys;
      console.log(
        `ca-shark ${label.padEnd(6)} ${Math.round(messages / seconds).toLocaleString('en-US')} messages/s, ` +
          `${(bytes.length / 1e6 / seconds).toFixed(1)} MB/s, ${seconds.toFixed(2)} s wall` +
          (Number.isFinite(cpu) ? `; ${Math.round(messages / cpu).toLocaleString('en-US')} messages per CPU second (${cpu.toFixed(2)} s CPU)` : '') +
          (Number.isFinite(rssKb) ? `, peak RSS ${(rssKb / 1024).toFixed(0)} MB` : ''),
      );
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();

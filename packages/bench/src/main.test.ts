/**
 * The bench end to end on the decoder's small fixture: every row runs, the daemon rows find their exit
 * summary and agree with `ca-shark --json`. It drives the built tree (dist), like `pnpm bench` does.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const main = `${root}packages/bench/dist/main.js`;
const built = [main, `${root}packages/cli/dist/main.js`, `${root}packages/daemon/dist/main.js`].every((f) =>
  existsSync(f),
);
const fixture = `${root}packages/decoder/fixtures/libca-sim.pcap`;

it.skipIf(!built)(
  'prints a row per tool with the daemon counts checked against ca-shark --json (needs `pnpm run build`)',
  { timeout: 120000 },
  () => {
    const r = spawnSync(process.execPath, [main], {
      encoding: 'utf8',
      env: {
        ...process.env,
        CA_SHARK_BENCH_CAPTURE: fixture,
        CA_SHARK_BENCH_TOOLS: 'read,shark,text,json,stats,report,daemon-r,daemon-stdin',
      },
      timeout: 110000,
    });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/realistic traffic \(not synthetic\): libca-sim\.pcap/);
    expect(r.stdout).toMatch(/97 CA messages, 91 frames/);
    for (const tool of [
      'shark() iterating every record',
      'ca-shark FILE (text)',
      'ca-shark --json FILE',
      'ca-shark stats FILE',
      'ca-shark report FILE',
    ]) {
      const line = r.stdout.split('\n').find((l) => l.startsWith(`| ${tool} `));
      expect(line, tool).toBeDefined();
      expect(line).not.toMatch(/EXIT|TIMED OUT/);
    }
    expect(r.stdout.match(/97 records, as many as ca-shark --json; 0 frames dropped, 0 malformed/g)).toHaveLength(2);
  },
);

it.skipIf(!built)('refuses an unknown row name with exit code 2', () => {
  const r = spawnSync(process.execPath, [main], {
    encoding: 'utf8',
    env: { ...process.env, CA_SHARK_BENCH_CAPTURE: fixture, CA_SHARK_BENCH_TOOLS: 'shark,warp' },
  });
  expect(r.status).toBe(2);
  expect(r.stderr).toMatch(/^bench: CA_SHARK_BENCH_TOOLS: unknown row "warp"/m);
});

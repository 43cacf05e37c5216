/**
 * `pnpm fuzz [--seed S] [--cases N]`: a longer mutation-fuzzing campaign than CI runs (same cases as
 * mutation-fuzz.test.ts for the same seeds). Prints each failing case with the seed that reproduces it;
 * exits 1 when any failed.
 */
import { parseArgs } from 'node:util';
import { loadFixtures, runCase } from './mutation.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, cases: { type: 'string' } } });
const seed = Number(values.seed ?? Date.now() % 1_000_000);
const cases = Number(values.cases ?? 100_000);
if (!Number.isInteger(seed) || !Number.isInteger(cases) || cases < 0) {
  process.stderr.write('usage: pnpm fuzz [--seed INTEGER] [--cases COUNT]\n');
  process.exit(2);
}
const fixtures = loadFixtures();
let failed = 0;
const started = process.cpuUsage();
for (let s = seed; s < seed + cases; s++) {
  const r = runCase(s, fixtures);
  if (r.violations.length > 0) {
    failed++;
    process.stdout.write(`FAIL ${r.describe}\n  ${r.violations.join('\n  ')}\n`);
  }
  if ((s - seed + 1) % 10_000 === 0) process.stderr.write(`${s - seed + 1} cases, ${failed} failed\n`);
}
const cpu = process.cpuUsage(started);
process.stdout.write(
  `seeds ${seed}..${seed + cases - 1}: ${cases} cases, ${failed} failed (${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU)\n`,
);
process.exitCode = failed > 0 ? 1 : 0;

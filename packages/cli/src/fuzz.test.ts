/**
 * The mutation fuzzer's cases (decoder/src/test-support/mutation.ts) through the `ca-shark` program: it
 * never throws, prints every record the decoder gives, says on stderr when the input was damaged (with
 * a frame number), and its exit status agrees (docs/cli.md, "Exit status").
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { decodeCapture, hasMarker, loadFixtures, mutate, prng } from '../../decoder/src/test-support/mutation.js';
import { EXIT_BAD_INPUT, EXIT_DAMAGED, EXIT_NOTHING, EXIT_OK, run } from './run.js';

/** A hang guard, not a speed check: these CPU-bound runs take several times longer on a loaded machine. */
const FUZZ_TIMEOUT_MS = 60_000;

/** About 3 ms of CPU a case. */
const CASES = 400;
const SEED = 1_000_000;

async function runOn(bytes: Uint8Array, args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (b: Buffer) => (out += b.toString()));
  stderr.on('data', (b: Buffer) => (err += b.toString()));
  const status = await run(args, { stdin: Readable.from([Buffer.from(bytes)]), stdout, stderr, env: {} });
  return { status, stdout: out, stderr: err };
}

describe('mutation fuzzing through ca-shark', { timeout: FUZZ_TIMEOUT_MS }, () => {
  it(`${CASES} seeded cases: no exception, nothing lost, damage reported, exit status consistent`, async () => {
    const fixtures = loadFixtures();
    const failures: string[] = [];
    for (let seed = SEED; seed < SEED + CASES; seed++) {
      const rand = prng(seed);
      const f = fixtures[Math.floor(rand() * fixtures.length)];
      const m = mutate(f.bytes, f.units, rand);
      const decoded = decodeCapture(m.bytes);
      const what = `seed ${seed}: ${f.name}: ${m.what}`;
      let r: Awaited<ReturnType<typeof runOn>>;
      try {
        r = await runOn(m.bytes, ['--json', '-']);
      } catch (e) {
        failures.push(`${what}: threw ${(e as Error).message}`);
        continue;
      }
      const lines = r.stdout === '' ? 0 : r.stdout.split('\n').length - 1;
      if (lines !== decoded.records.length)
        failures.push(`${what}: printed ${lines} of ${decoded.records.length} records`);
      const damaged =
        decoded.problems.length > 0 ||
        decoded.records.some((x) => x.command.name === 'Malformed' || x.truncated === true);
      const expected = damaged
        ? [EXIT_BAD_INPUT, EXIT_DAMAGED]
        : decoded.records.length > 0
          ? [EXIT_OK]
          : [EXIT_NOTHING];
      if (!expected.includes(r.status)) failures.push(`${what}: exit ${r.status}, expected ${expected.join(' or ')}`);
      // Damage before any frame names what it cut instead (found by a longer campaign: a pcap cut inside
      // its 24-byte file header).
      if (damaged && !/frame \d+|empty input|input starts with|too short|inside the pcap file header/.test(r.stderr))
        failures.push(`${what}: damage without a frame on stderr: ${r.stderr}`);
      if (decoded.skippedCount > 0 && !r.stderr.includes('Skipped flow'))
        failures.push(`${what}: skipped flow not told`);
      if (!hasMarker(decoded) && r.stderr !== '') failures.push(`${what}: clean input but stderr: ${r.stderr}`);
    }
    expect(failures).toEqual([]);
  }, 180_000);
});

/**
 * Seeded mutation fuzzing of the capture fixtures through the decoder (the checks are in
 * test-support/mutation.ts): no exception, bounded output, the records of frames before the first
 * damaged byte still emitted, and no record lost without a marker. `pnpm fuzz --seed S --cases N` runs
 * a longer campaign of the same cases.
 */
import { describe, expect, it } from 'vitest';
import { loadFixtures, runCase } from './test-support/mutation.js';

/** About 1 ms of CPU a case on the small fixtures. */
const CASES = 3000;
const SEED = 1;

describe('mutation fuzzing of pcap/pcapng/CA bytes', () => {
  it(`${CASES} seeded cases lose no record silently`, () => {
    const fixtures = loadFixtures();
    const failures: string[] = [];
    for (let seed = SEED; seed < SEED + CASES; seed++) {
      const r = runCase(seed, fixtures);
      if (r.violations.length > 0) failures.push(`${r.describe}: ${r.violations.join('; ')}`);
    }
    expect(failures).toEqual([]);
    // A generous limit: the machine may be shared; the cases take about 3 s of CPU.
  }, 180_000);

  // Found by longer campaigns: a damaged size on a command that has no payload in one direction (a
  // CREATE_CHAN reply, a READ_NOTIFY request) swallowed the messages after it without a marker.
  it.each([105229, 110897])('seed %i: a payload where the direction has none is reported', (seed) => {
    const r = runCase(seed, loadFixtures());
    expect(r.violations).toEqual([]);
  });

  // Ethernet's link type damaged into NULL's: every frame's destination MAC read as an address family.
  it('seed 7170672: frames whose NULL address family no host writes are reported', () => {
    const r = runCase(7170672, loadFixtures());
    expect(r.describe).toContain('flip a bit of byte 20');
    expect(r.violations).toEqual([]);
  });

  // A pcap record's captured length grown by a bit flip (90 to 2138 bytes): the frame swallowed the records
  // of the next ones, 60 messages, and IPv4's total length hid the rest as trailing bytes.
  it('seed 20328761: a record that keeps more bytes than its packet had is reported', () => {
    const r = runCase(20328761, loadFixtures());
    expect(r.describe).toContain('libca-sim.pcap: flip a bit of byte 625');
    expect(r.violations).toEqual([]);
  });

  // 12 bytes inserted into a frame: the next record header, read 9 bytes early, framed a plausible 70-byte
  // non-IP frame over a Beacon; its microseconds field (1,379,125,962) was the only sign.
  it('seed 23069373: a misframed record header whose timestamp fraction passes a second is reported', () => {
    const r = runCase(23069373, loadFixtures());
    expect(r.describe).toContain('libca-sim.pcap: insert 12 bytes at 391');
    expect(r.violations).toEqual([]);
  });
});

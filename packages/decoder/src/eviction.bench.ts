/**
 * `pnpm --filter @ca-shark/decoder bench:eviction`: decode crafted one-circuit captures that create 100k
 * and 300k distinct channels with the default state caps (200k channels), so the larger one evicts 100k.
 * With O(1) amortised eviction the 300k run costs about 3x the 100k one (it was 20-30x with
 * `map.keys().next()`). Prints CPU time; the deterministic check is in bounded-map.test.ts.
 */
import { createDecoder } from './decoder.js';
import { channelFlood } from './test-support/scenario.js';

const results: { channels: number; cpu: number; evicted: number }[] = [];
for (const channels of [100_000, 300_000]) {
  const capture = channelFlood(channels);
  const before = process.cpuUsage();
  const d = createDecoder({});
  d.pushCapture(capture);
  d.end();
  const used = process.cpuUsage(before);
  const cpu = (used.user + used.system) / 1e6;
  results.push({ channels, cpu, evicted: d.state.statistics.evicted.channels });
  console.log(
    `eviction bench: ${channels.toLocaleString('en-US')} distinct channels decoded in ${cpu.toFixed(2)} s CPU, ${d.state.statistics.evicted.channels.toLocaleString('en-US')} evicted`,
  );
}
console.log(`eviction bench: 300k/100k CPU ratio ${(results[1].cpu / results[0].cpu).toFixed(2)} (target <= 4)`);

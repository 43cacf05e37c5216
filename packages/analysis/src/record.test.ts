import { describe as suite, expect, it } from 'vitest';
import { endpoint, endpointNamesKept, receiver, sender } from './record.js';
import { rec } from './test-support/records.js';

suite('endpoint names', () => {
  it('names every endpoint "ip:port", past the cache bound and across its restart', () => {
    // 10,000 ports of one host (a search flood from ephemeral ports) fill the cache more than twice.
    for (let round = 0; round < 2; round++) {
      for (let port = 1; port <= 10_000; port++) {
        expect(endpoint('10.0.0.1', port)).toBe(`10.0.0.1:${port}`);
        expect(endpointNamesKept()).toBeLessThanOrEqual(4096);
      }
    }
    expect(endpoint('10.0.0.2', 5064)).toBe('10.0.0.2:5064');
    expect(endpoint('10.0.0.1', 1)).toBe('10.0.0.1:1');
  });

  it('gives the sender and the receiver of a record', () => {
    const r = rec(1, '10.1.0.1:40000', '10.2.0.1:5064', { name: 'SearchRequest', id: 6 });
    expect(sender(r)).toBe('10.1.0.1:40000');
    expect(receiver(r)).toBe('10.2.0.1:5064');
  });
});

import { describe, expect, it } from 'vitest';
import { WrappingCounter } from './counters.js';

describe('WrappingCounter', () => {
  it('passes readings through while they grow', () => {
    const c = new WrappingCounter();
    expect(c.update(0)).toBe(0);
    expect(c.update(10)).toBe(10);
    expect(c.update(10)).toBe(10);
    expect(c.update(4000)).toBe(4000);
    expect(c.value).toBe(4000);
  });

  it('keeps counting across the 32-bit wrap of libpcap counters', () => {
    const c = new WrappingCounter();
    c.update(2 ** 32 - 5);
    expect(c.update(3)).toBe(2 ** 32 + 3);
    c.update(2 ** 32 - 1);
    expect(c.update(1)).toBe(2 * 2 ** 32 + 1);
  });
});

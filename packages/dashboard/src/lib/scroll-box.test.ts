import { describe, expect, it } from 'vitest';
import { cssHeightPx } from './scroll-box.js';

describe('cssHeightPx', () => {
  it('reads pixel and viewport heights', () => {
    expect(cssHeightPx('46vh', 800)).toBeCloseTo(368);
    expect(cssHeightPx('70dvh', 1000)).toBe(700);
    expect(cssHeightPx('300px', 800)).toBe(300);
    expect(cssHeightPx(' 12.5px ', 800)).toBe(12.5);
  });

  it('gives NaN for what it cannot know without a layout', () => {
    expect(cssHeightPx('20em', 800)).toBeNaN();
    expect(cssHeightPx('calc(100vh - 40px)', 800)).toBeNaN();
    expect(cssHeightPx('', 800)).toBeNaN();
  });
});

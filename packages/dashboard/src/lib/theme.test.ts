import { afterEach, describe, expect, it, vi } from 'vitest';
import { cssVar } from './theme.js';

/** A document whose computed colour is the theme's name and the variable read, counting the reads. */
function fakeDocument(): { dataset: Record<string, string>; reads: () => number } {
  const dataset: Record<string, string> = {};
  let reads = 0;
  const body = { appendChild: () => undefined };
  vi.stubGlobal('document', {
    body,
    documentElement: { dataset },
    createElement: () => ({ style: { color: '', display: '' }, isConnected: true }),
  });
  vi.stubGlobal('getComputedStyle', (el: { style: { color: string } }) => {
    reads++;
    return { color: `${dataset['theme'] ?? 'system'}:${el.style.color}` };
  });
  return { dataset, reads: () => reads };
}

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('cssVar', () => {
  it('reads each colour once per theme (each read forces a style recalculation)', () => {
    const doc = fakeDocument();
    expect(cssVar('--border', '#ddd')).toBe('system:var(--border, #ddd)');
    expect(cssVar('--border', '#ddd')).toBe('system:var(--border, #ddd)');
    expect(cssVar('--fg-muted', '#555')).toBe('system:var(--fg-muted, #555)');
    expect(doc.reads()).toBe(2);
    doc.dataset['theme'] = 'dark';
    expect(cssVar('--border', '#ddd')).toBe('dark:var(--border, #ddd)');
    expect(doc.reads()).toBe(3);
  });

  it('gives the fallback without a document', () => {
    expect(cssVar('--border', '#ddd')).toBe('#ddd');
  });
});

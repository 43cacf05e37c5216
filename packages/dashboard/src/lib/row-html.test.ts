import { describe, expect, it } from 'vitest';
import { escapeHtml, rowHtml } from './row-html.js';
import type { Column } from './table.js';

interface Row {
  pv: string;
  n: number;
  state: string;
}

const columns: Column<Row>[] = [
  { key: 'pv', label: 'PV', mono: true, chart: 'pv', text: (r) => r.pv },
  { key: 'n', label: 'N', numeric: true, text: (r) => String(r.n) },
  {
    key: 'state',
    label: 'State',
    text: (r) => r.state,
    cellClass: (r) => (r.state === 'failed' ? 'error' : ''),
    cellTitle: (r) => `state of ${r.pv}`,
  },
];

/** Parses `<tr>` cells back into what a reader of the page sees, the way e2e tests read tables. */
function cells(html: string): { text: string; cls: string; title: string | null; chart: string | null }[] {
  const out: { text: string; cls: string; title: string | null; chart: string | null }[] = [];
  for (const m of html.matchAll(/<td((?: [a-z]+="[^"]*")*)>(.*?)<\/td>/g)) {
    const attrs = m[1] ?? '';
    const attr = (name: string): string | null => new RegExp(` ${name}="([^"]*)"`).exec(attrs)?.[1] ?? null;
    const chart = /data-chart="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? null;
    out.push({ text: (m[2] ?? '').replace(/<[^>]*>/g, ''), cls: attr('class') ?? '', title: attr('title'), chart });
  }
  return out;
}

describe('rowHtml', () => {
  it('draws each column as its text, classes, tooltip and chart link say', () => {
    const html = rowHtml(columns, { pv: 'SR:C01-BI', n: 7, state: 'failed' });
    expect(cells(html)).toEqual([
      { text: 'SR:C01-BI', cls: 'mono', title: null, chart: 'pv' },
      { text: '7', cls: 'num', title: null, chart: null },
      { text: 'failed', cls: 'error', title: 'state of SR:C01-BI', chart: null },
    ]);
    expect(html).toContain('<span class="chart-link" data-chart="pv" data-key="SR:C01-BI">SR:C01-BI</span>');
  });

  it('escapes what came off the wire in text, tooltips and chart keys', () => {
    const pv = `<img src=x onerror="alert('x')">&`;
    const html = rowHtml(columns, { pv, n: 1, state: 'ok' });
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;img src=x onerror=&quot;alert(&#39;x&#39;)&quot;&gt;&amp;');
    expect(html).toContain(`data-key="${escapeHtml(pv)}"`);
    expect(html).toContain(`title="state of ${escapeHtml(pv)}"`);
  });

  it('gives a text its column may cut a tooltip, and an empty chart cell no link', () => {
    const narrow: Column<Row>[] = [{ key: 'pv', label: 'PV', width: 80, text: (r) => r.pv }];
    expect(cells(rowHtml(narrow, { pv: 'A-LONGER:PV', n: 0, state: '' }))[0]?.title).toBe('A-LONGER:PV');
    expect(cells(rowHtml(narrow, { pv: 'SHORT', n: 0, state: '' }))[0]?.title).toBeNull();
    const long = 'x'.repeat(41);
    expect(cells(rowHtml(columns, { pv: long, n: 0, state: '' }))[0]?.title).toBe(long);
    expect(rowHtml(columns, { pv: '', n: 0, state: '' })).toMatch(/^<td class="mono"><\/td>/);
  });
});

describe('escapeHtml', () => {
  it('escapes the five characters that matter in text and quoted attributes', () => {
    expect(escapeHtml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&#39;f');
  });
});

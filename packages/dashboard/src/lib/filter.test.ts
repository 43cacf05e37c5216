import { describe, expect, it } from 'vitest';
import type { FilterableRecord } from '@ca-shark/analysis/filter';
import {
  compileFilter,
  compileRowFilter,
  filterProblem,
  formatHash,
  isEmptyFilter,
  parseHash,
  splitTerms,
} from './filter.js';

/** The fields the filter reads (the shared filter works on this structural minimum of a record). */
function rec(
  name: string,
  pv: string | null,
  extra: Partial<Pick<FilterableRecord, 'src' | 'dst'>> = {},
  fields: Omit<FilterableRecord['command'], 'name'> = {},
): FilterableRecord {
  return { src: '10.0.0.5', dst: '10.0.0.9', command: { name, ...fields }, pv, ...extra };
}

describe('filterProblem', () => {
  it('gives the shared FilterError message for an invalid filter and null for a valid one', () => {
    expect(filterProblem({ pv: ['sim:{ai,bi}1'], host: ['10.0.0.0/8'], command: ['disconnect'] })).toBeNull();
    expect(filterProblem({ pv: ['sim:{ai'] })).toMatch(/unclosed \{/);
    expect(filterProblem({ host: ['10.0.0'] })).toMatch(/bad host address "10\.0\.0"/);
    expect(filterProblem({ command: ['serch'] })).toMatch(/unknown command "serch"/);
  });
});

describe('compileFilter', () => {
  const records = [
    rec('SearchRequest', 'sim:double'),
    rec('EventAddResponse', 'sim:counter', { src: '127.0.0.1', dst: '127.0.0.2' }),
    rec('ReadNotifyResponse', 'sim:long', {}, { status: 160 }),
    rec('Beacon', null),
  ];
  const pick = (f: Parameters<typeof compileFilter>[0]) => records.filter(compileFilter(f)).map((r) => r.command.name);

  it('lets everything through when empty', () => {
    expect(pick({})).toHaveLength(4);
    expect(isEmptyFilter({ pv: [], errors: false })).toBe(true);
  });
  it('combines fields with AND and terms with OR', () => {
    expect(pick({ pv: ['sim:d*', 'sim:l*'] })).toEqual(['SearchRequest', 'ReadNotifyResponse']);
    expect(pick({ pv: ['sim:*'], command: ['monitor'] })).toEqual(['EventAddResponse']);
    expect(pick({ host: ['127.0.0.0/8'] })).toEqual(['EventAddResponse']);
    expect(pick({ errors: true })).toEqual(['ReadNotifyResponse']);
    expect(pick({ command: ['beacon', 'search'] })).toEqual(['SearchRequest', 'Beacon']);
  });
});

describe('URL hash', () => {
  it('round-trips view and filter', () => {
    const state = {
      view: 'searches' as const,
      filter: { pv: ['sim:*', 'a?b'], host: ['10.0.0.0/8'], command: ['search'], errors: true },
    };
    const hash = formatHash(state);
    expect(hash).toBe('#/searches?pv=sim:*,a%3Fb&host=10.0.0.0/8&cmd=search&errors=1');
    expect(parseHash(hash)).toEqual(state);
  });
  it('round-trips a sensor filter (a central daemon)', () => {
    const state = { view: 'live' as const, filter: { sensor: ['linac-*', 'ring'] } };
    const hash = formatHash(state);
    expect(hash).toBe('#/live?sensor=linac-*,ring');
    expect(parseHash(hash)).toEqual(state);
  });
  it('falls back to the live view with no filter', () => {
    expect(parseHash('')).toEqual({ view: 'live', filter: {} });
    expect(parseHash('#/bogus?pv=')).toEqual({ view: 'live', filter: {} });
    expect(formatHash({ view: 'live', filter: {} })).toBe('#/live');
  });
  it('splits filter-bar text', () => {
    expect(splitTerms(' sim:*, other:a  b ')).toEqual(['sim:*', 'other:a', 'b']);
  });
  it('keeps commas inside brace alternatives and after a backslash', () => {
    expect(splitTerms('sim:{ai,bi}1, x:{a,{b,c}}* y')).toEqual(['sim:{ai,bi}1', 'x:{a,{b,c}}*', 'y']);
    expect(splitTerms('a\\,b,c')).toEqual(['a\\,b', 'c']);
  });
  it('round-trips brace globs through the URL', () => {
    const state = { view: 'live' as const, filter: { pv: ['sim:{ai,bi}1', 'x*'] } };
    expect(parseHash(formatHash(state))).toEqual(state);
  });
});

describe('compileRowFilter', () => {
  it('applies PV globs and hosts to table rows, endpoints with ports included', () => {
    const f = compileRowFilter({ pv: ['sim:*'], host: ['127.0.0.0/8'], command: ['search'], errors: true });
    expect(f('sim:double', ['127.0.0.1:5064', null])).toBe(true);
    expect(f('sim:double', ['10.0.0.1:5064'])).toBe(false);
    expect(f('other', ['127.0.0.1:5064'])).toBe(false);
    expect(f(null, ['127.0.0.1'])).toBe(false);
    expect(compileRowFilter({})(null, [])).toBe(true);
  });
});

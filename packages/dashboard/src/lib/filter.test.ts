import { describe, expect, it } from 'vitest';
import type { RecordJSON } from './contract.js';
import {
  commandMatches, compileFilter, compileRowFilter, formatHash, globToRegExp, hostMatcher, isEmptyFilter, isErrorRecord, parseHash, splitTerms,
} from './filter.js';

function rec(name: string, pv: string | null, extra: Partial<RecordJSON> = {}, fields: Record<string, unknown> = {}): RecordJSON {
  return { timestamp: 1, src: '10.0.0.5', dst: '10.0.0.9', command: { name, ...fields }, pv, ...extra };
}

describe('globs', () => {
  it.each([
    ['sim:*', 'sim:double', true],
    ['sim:*', 'other:double', false],
    ['*:double', 'sim:double', true],
    ['sim:?ong', 'sim:long', true],
    ['sim:?ong', 'sim:xlong', false],
    ['sim:[dl]*', 'sim:long', true],
    ['sim:[!dl]*', 'sim:long', false],
    ['a.b', 'aXb', false],
    ['a.b', 'a.b', true],
    ['Sim:*', 'sim:double', false],
  ])('%s on %s → %s', (glob, pv, ok) => expect(globToRegExp(glob).test(pv)).toBe(ok));
});

describe('hosts', () => {
  it('matches an address, a prefix length and a dotted mask', () => {
    expect(hostMatcher('10.0.0.5')!('10.0.0.5')).toBe(true);
    expect(hostMatcher('10.0.0.5')!('10.0.0.6')).toBe(false);
    expect(hostMatcher('10.0.0.0/8')!('10.200.1.1')).toBe(true);
    expect(hostMatcher('10.0.0.0/8')!('11.0.0.1')).toBe(false);
    expect(hostMatcher('192.168.1.0/255.255.255.0')!('192.168.1.77')).toBe(true);
    expect(hostMatcher('0.0.0.0/0')!('1.2.3.4')).toBe(true);
    expect(hostMatcher('nonsense')).toBeNull();
    expect(hostMatcher('10.0.0.0/33')).toBeNull();
  });
});

describe('commands and errors', () => {
  it('matches families, class names and names without Request/Response', () => {
    expect(commandMatches('search', 'SearchRequest')).toBe(true);
    expect(commandMatches('monitor', 'EventAddResponse')).toBe(true);
    expect(commandMatches('monitor', 'ReadNotifyResponse')).toBe(false);
    expect(commandMatches('readnotify', 'ReadNotifyRequest')).toBe(true);
    expect(commandMatches('EventAddResponse', 'EventAddResponse')).toBe(true);
    expect(commandMatches('EventAddResponse', 'EventAddRequest')).toBe(true);
    expect(commandMatches('write', 'WriteNotifyResponse')).toBe(true);
  });
  it('finds error commands and failed statuses', () => {
    expect(isErrorRecord(rec('CreateChFailResponse', 'x'))).toBe(true);
    expect(isErrorRecord(rec('Malformed', null))).toBe(true);
    expect(isErrorRecord(rec('ReadNotifyResponse', 'x', {}, { status: 152 }))).toBe(true);
    expect(isErrorRecord(rec('ReadNotifyResponse', 'x', {}, { status: 1 }))).toBe(false);
    expect(isErrorRecord(rec('WriteNotifyResponse', 'x', {}, { status: 'ECA_PUTFAIL' }))).toBe(true);
    expect(isErrorRecord(rec('SearchRequest', 'x'))).toBe(false);
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
    const state = { view: 'searches' as const, filter: { pv: ['sim:*', 'a?b'], host: ['10.0.0.0/8'], command: ['search'], errors: true } };
    const hash = formatHash(state);
    expect(hash).toBe('#/searches?pv=sim:*,a%3Fb&host=10.0.0.0/8&cmd=search&errors=1');
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

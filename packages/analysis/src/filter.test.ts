import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  COMMAND_FAMILIES,
  compileFilter,
  FilterError,
  MAX_FILTER_VALUES,
  ipv4ToInt,
  isFailure,
  resolveCommandNames,
  type FilterableRecord,
} from './filter.js';

function rec(
  name: string,
  fields: Omit<FilterableRecord['command'], 'name'> = {},
  extra: Partial<FilterableRecord> = {},
): FilterableRecord {
  return { src: '10.0.0.5', dst: '10.0.0.9', pv: null, command: { name, ...fields }, ...extra };
}

describe('compileFilter', () => {
  it('keeps everything without criteria', () => {
    const keep = compileFilter({});
    expect(keep(rec('Beacon'))).toBe(true);
  });

  it('matches PV globs, case-sensitively, and drops records without a PV', () => {
    const keep = compileFilter({ pv: ['rpi:*', 'T?:cnt'] });
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'rpi:color' }))).toBe(true);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'T1:cnt' }))).toBe(true);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'T10:cnt' }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'RPI:color' }))).toBe(false);
    expect(keep(rec('Beacon'))).toBe(false);
  });

  it('matches hosts by address, prefix and dotted netmask, on source or destination', () => {
    expect(compileFilter({ host: ['10.0.0.9'] })(rec('Beacon'))).toBe(true);
    expect(compileFilter({ host: ['10.0.0.5'] })(rec('Beacon'))).toBe(true);
    expect(compileFilter({ host: ['10.0.0.6'] })(rec('Beacon'))).toBe(false);
    expect(compileFilter({ host: ['10.0.0.0/24'] })(rec('Beacon', {}, { src: '10.0.1.1', dst: '10.0.0.200' }))).toBe(
      true,
    );
    expect(
      compileFilter({ host: ['10.0.0.0/255.255.255.0'] })(rec('Beacon', {}, { src: '10.0.1.1', dst: '10.0.2.1' })),
    ).toBe(false);
    expect(compileFilter({ host: ['0.0.0.0/0'] })(rec('Beacon'))).toBe(true);
    expect(compileFilter({ host: ['192.168.0.0/16', '10.0.0.5'] })(rec('Beacon'))).toBe(true);
  });

  it('rejects bad addresses and masks with the value in the message', () => {
    expect(() => compileFilter({ host: ['10.0.0'] })).toThrow(/10\.0\.0/);
    expect(() => compileFilter({ host: ['10.0.0.1/33'] })).toThrow(FilterError);
    expect(() => compileFilter({ host: ['10.0.0.1/255.0.255.0'] })).toThrow(/mask/);
  });

  it('matches commands by class, base name and family, case-insensitively, comma-separated', () => {
    const keep = compileFilter({ command: ['search', 'readnotify'] });
    expect(keep(rec('SearchRequest'))).toBe(true);
    expect(keep(rec('NotFoundResponse'))).toBe(true);
    expect(keep(rec('ReadNotifyRequest'))).toBe(true);
    expect(keep(rec('ReadNotifyResponse'))).toBe(true);
    expect(keep(rec('WriteNotifyResponse'))).toBe(false);
    const exact = compileFilter({ command: ['CREATECHANRESPONSE,beacon'] });
    expect(exact(rec('CreateChanResponse'))).toBe(true);
    expect(exact(rec('CreateChanRequest'))).toBe(false);
    expect(exact(rec('Beacon'))).toBe(true);
  });

  it('rejects unknown command names listing the families', () => {
    expect(() => compileFilter({ command: ['serch'] })).toThrow(
      /unknown command "serch".*search, read, write, monitor/,
    );
  });

  it('keeps failures only with errors', () => {
    const keep = compileFilter({ errors: true });
    expect(keep(rec('ReadNotifyResponse', { status: 1 }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', { status: 152 }))).toBe(true); // ECA_GETFAIL, severity WARNING
    expect(keep(rec('WriteNotifyResponse', { status: 160 }))).toBe(true); // ECA_PUTFAIL
    expect(keep(rec('EventAddResponse', { status_code: 339 }))).toBe(false); // INFO is a success
    expect(keep(rec('EventAddResponse', { status: 242 }))).toBe(true); // ECA_BADMONID
    expect(keep(rec('CreateChFailResponse', { cid: 1 }))).toBe(true);
    expect(keep(rec('ErrorResponse', { status_code: 1 }))).toBe(true);
    expect(keep(rec('Malformed'))).toBe(true);
    expect(keep(rec('NotFoundResponse'))).toBe(true);
    // The cancel confirmation carries a SID where updates carry a status: never a failure.
    expect(keep(rec('EventCancelResponse', { sid: 2 }))).toBe(false);
    expect(isFailure(rec('SearchRequest', { status: 0 }))).toBe(false);
  });

  it('matches sensor globs, and never a record without a sensor', () => {
    const keep = compileFilter({ sensor: ['linac-*', 'ring'] });
    expect(keep(rec('Beacon', {}, { sensor: 'linac-2' }))).toBe(true);
    expect(keep(rec('Beacon', {}, { sensor: 'ring' }))).toBe(true);
    expect(keep(rec('Beacon', {}, { sensor: 'booster' }))).toBe(false);
    expect(keep(rec('Beacon'))).toBe(false);
    expect(() => compileFilter({ sensor: ['[a-'] })).toThrow(FilterError);
  });

  it('ANDs criteria', () => {
    const keep = compileFilter({ pv: ['a*'], command: ['read'], host: ['10.0.0.9'] });
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'abc' }))).toBe(true);
    expect(keep(rec('WriteNotifyResponse', {}, { pv: 'abc' }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'xbc' }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'abc', src: '1.1.1.1', dst: '2.2.2.2' }))).toBe(false);
  });
});

describe('compileFilter limits (ReDoS)', () => {
  it('matches pathological globs against long PV names in bounded CPU time', () => {
    const keep = compileFilter({ pv: ['*a*a*a*a*a*a*a*a*b', '{*a*a*a*a*a*a*c,*a*a*a*a*a*a*a*d}'] });
    const start = process.cpuUsage();
    // The backtracking RegExp this replaced needed over 10 s for the first name alone.
    for (const n of [28, 60, 1000]) expect(keep(rec('SearchRequest', {}, { pv: 'a'.repeat(n) }))).toBe(false);
    const used = process.cpuUsage(start);
    expect((used.user + used.system) / 1e6).toBeLessThan(5);
  });

  it('caps the number of values of each criterion and names the limit', () => {
    const many = (k: number, f: (i: number) => string) => Array.from({ length: k }, (_, i) => f(i));
    expect(() => compileFilter({ pv: many(MAX_FILTER_VALUES, (i) => `pv${i}`) })).not.toThrow();
    expect(() => compileFilter({ pv: many(MAX_FILTER_VALUES + 1, (i) => `pv${i}`) })).toThrow(/more than 32 PV globs/);
    expect(() => compileFilter({ host: many(MAX_FILTER_VALUES + 1, (i) => `10.0.0.${i}`) })).toThrow(
      /more than 32 hosts/,
    );
    expect(() => compileFilter({ command: [many(MAX_FILTER_VALUES + 1, () => 'read').join(',')] })).toThrow(
      /more than 32 commands/,
    );
  });

  it('caps the total size of the PV patterns', () => {
    // Each glob is legal alone (64 alternatives of 4 tokens); together they are over the budget.
    const wide = '{a,b}{a,b}{a,b}{a,b}{a,b}{a,b}*a*b';
    expect(() => compileFilter({ pv: [wide] })).not.toThrow();
    expect(() => compileFilter({ pv: Array.from({ length: 32 }, () => wide) })).toThrow(/PV globs are too large/);
  });

  it('rejects a glob over the length limit with a short quote of it', () => {
    expect(() => compileFilter({ pv: ['x'.repeat(300)] })).toThrow(/^PV glob "x{40}…" is longer than 256 characters$/);
  });
});

describe('helpers', () => {
  it('parses dotted quads', () => {
    expect(ipv4ToInt('255.255.255.255')).toBe(0xffffffff);
    expect(ipv4ToInt('10.0.0.1')).toBe(0x0a000001);
    expect(ipv4ToInt('256.0.0.1')).toBeNull();
    expect(ipv4ToInt('1.2.3')).toBeNull();
  });

  it('resolves families to class names', () => {
    expect([...resolveCommandNames(['monitor'])].sort()).toEqual(
      [
        'EventAddRequest',
        'EventAddResponse',
        'EventCancelRequest',
        'EventCancelResponse',
        'EventsOffRequest',
        'EventsOnRequest',
      ].sort(),
    );
  });
});

describe('documented command families', () => {
  const doc = (name: string): string => readFileSync(new URL(`../../../docs/${name}`, import.meta.url), 'utf8');
  const families = Object.keys(COMMAND_FAMILIES);

  it('cli.md lists every family with exactly its commands', () => {
    const text = doc('cli.md');
    const table = text.slice(text.indexOf('<!-- command-families'));
    // Cells may be padded (the formatter aligns the table's columns).
    const rows = [...table.matchAll(/^\| `([a-z]+)` +\| (.+?) *\|$/gm)].map((m) => [
      m[1],
      [...m[2].matchAll(/`(\w+)`/g)].map((n) => n[1]),
    ]);
    expect(Object.fromEntries(rows)).toEqual(COMMAND_FAMILIES);
  });

  it.each(['websocket.md', 'dashboard.md'])('%s names every family', (name) => {
    const list = /`search`(?:,\s+`[a-z]+`)+/.exec(doc(name))?.[0] ?? '';
    expect([...list.matchAll(/`([a-z]+)`/g)].map((m) => m[1])).toEqual(families);
  });
});

import { describe, expect, it } from 'vitest';
import { compileFilter, FilterError, globToRegExp, ipv4ToInt, isFailure, resolveCommandNames, type FilterableRecord } from './filter.js';

function rec(name: string, fields: Record<string, unknown> = {}, extra: Partial<FilterableRecord> = {}): FilterableRecord {
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
    expect(compileFilter({ host: ['10.0.0.0/24'] })(rec('Beacon', {}, { src: '10.0.1.1', dst: '10.0.0.200' }))).toBe(true);
    expect(compileFilter({ host: ['10.0.0.0/255.255.255.0'] })(rec('Beacon', {}, { src: '10.0.1.1', dst: '10.0.2.1' }))).toBe(false);
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
    expect(() => compileFilter({ command: ['serch'] })).toThrow(/unknown command "serch".*search, read, write, monitor/);
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

  it('ANDs criteria', () => {
    const keep = compileFilter({ pv: ['a*'], command: ['read'], host: ['10.0.0.9'] });
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'abc' }))).toBe(true);
    expect(keep(rec('WriteNotifyResponse', {}, { pv: 'abc' }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'xbc' }))).toBe(false);
    expect(keep(rec('ReadNotifyResponse', {}, { pv: 'abc', src: '1.1.1.1', dst: '2.2.2.2' }))).toBe(false);
  });
});

describe('globToRegExp', () => {
  it.each([
    ['a*', 'abc', true],
    ['a*', 'xabc', false],
    ['*:cnt', 'T1:cnt', true],
    ['T[12]:cnt', 'T2:cnt', true],
    ['T[!12]:cnt', 'T2:cnt', false],
    ['T[!12]:cnt', 'T3:cnt', true],
    ['{wf,wf:scalar}', 'wf:scalar', true],
    ['{wf,wf:scalar}', 'wf:', false],
    ['rpi.color', 'rpiXcolor', false],
    ['a\\*', 'a*', true],
    ['a\\*', 'ab', false],
  ])('%s vs %s → %s', (glob, text, expected) => {
    expect(globToRegExp(glob).test(text)).toBe(expected);
  });

  it('rejects unclosed classes and alternatives', () => {
    expect(() => globToRegExp('a[b')).toThrow(FilterError);
    expect(() => globToRegExp('{a,b')).toThrow(FilterError);
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
      ['EventAddRequest', 'EventAddResponse', 'EventCancelRequest', 'EventCancelResponse', 'EventsOffRequest', 'EventsOnRequest'].sort(),
    );
  });
});

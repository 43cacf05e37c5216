import { describe, expect, it } from 'vitest';
import {
  alarmSeverityName,
  alarmStatusName,
  dbrTypeName,
  ecaStatus,
  failureStatus,
  formatAccessRights,
  formatAlarm,
  formatValue,
  isFloat32Type,
  shortestFloat32,
  summarizeFields,
  valueFormatOf,
} from './summary.js';

describe('summarizeFields', () => {
  it('shows the value with its enum string and a failed status', () => {
    const fields = summarizeFields({
      name: 'ReadNotifyResponse',
      id: 15,
      data: [2],
      data_type: 'CTRL_ENUM',
      data_count: 1,
      ioid: 7,
      status: 152,
      metadata: { status: 0, severity: 0, enum_strings: ['Off', 'On', 'Fault'] },
    });
    expect(fields).toBe('Fault data_type=CTRL_ENUM data_count=1 ioid=7 status=GETFAIL');
  });

  it('flags a value in alarm', () => {
    const fields = summarizeFields({
      name: 'EventAddResponse',
      data: [9.5],
      metadata: { status: 3, severity: 2, units: 'V', precision: 1 },
    });
    expect(fields).toBe('9.5 V [MAJOR / HIHI]');
  });

  it('hides a successful status and cuts long lines', () => {
    const fields = summarizeFields({ name: 'WriteNotifyResponse', status: 1, ioid: 3, note: 'x'.repeat(400) });
    expect(fields.startsWith('ioid=3 note=xxx')).toBe(true);
    expect(fields.length).toBe(160);
    expect(fields.endsWith('…')).toBe(true);
  });

  it('cuts a line exactly as long as the limit only when more fields follow', () => {
    const exact = summarizeFields({ name: 'X', a: 'y'.repeat(8) }, 10);
    expect(exact).toBe('a=yyyyyyyy');
    expect(summarizeFields({ name: 'X', a: 'y'.repeat(8), b: 1 }, 10)).toBe('a=yyyyyyy…');
  });

  it("reads the decoder's ECA fields: the status name only when it failed, never the duplicate names", () => {
    const ok = summarizeFields({
      name: 'WriteNotifyResponse',
      id: 19,
      data_type: 4,
      data_type_name: 'CHAR',
      data_count: 1,
      status: 1,
      status_name: 'ECA_NORMAL',
      severity: 'SUCCESS',
      ioid: 61,
    });
    expect(ok).toBe('data_type=CHAR data_count=1 ioid=61');
    const bad = summarizeFields({
      name: 'WriteNotifyResponse',
      id: 19,
      data_type: 4,
      data_count: 1,
      status: 160,
      status_name: 'ECA_PUTFAIL',
      severity: 'WARNING',
      ioid: 62,
    });
    expect(bad).toBe('data_type=CHAR data_count=1 status=PUTFAIL ioid=62');
  });

  it("reads the decoder's in-memory form: typed-array waveforms and byte fields", () => {
    const wave = summarizeFields({
      name: 'EventAddResponse',
      data_type: 6,
      data_count: 1000,
      subscriptionid: 4,
      data: Float64Array.from({ length: 1000 }, (_, i) => i / 2),
    });
    expect(wave).toBe('[1000] 0, 0.5, 1, … 996 more …, 499.5 data_type=DOUBLE data_count=1000 subscriptionid=4');
    expect(summarizeFields({ name: 'X', bytes: Uint8Array.of(0, 0xab) })).toBe('bytes=00ab');
  });
});

describe('failureStatus', () => {
  it('names failed statuses of replies and errors, nothing for success', () => {
    expect(failureStatus({ name: 'ReadNotifyResponse', status: 368, status_name: 'ECA_NORDACCESS' })).toBe(
      'ECA_NORDACCESS',
    );
    expect(failureStatus({ name: 'WriteNotifyResponse', status: 160 })).toBe('ECA_PUTFAIL');
    expect(failureStatus({ name: 'ErrorResponse', status_code: 114, status_name: 'ECA_BADTYPE' })).toBe('ECA_BADTYPE');
    expect(failureStatus({ name: 'ReadNotifyResponse', status: 1, status_name: 'ECA_NORMAL' })).toBeNull();
    expect(failureStatus({ name: 'SearchRequest' })).toBeNull();
  });
});

describe('alarm names', () => {
  it.each([
    [0, 'NO_ALARM'],
    [1, 'MINOR'],
    [2, 'MAJOR'],
    [3, 'INVALID'],
    [9, '9'],
    ['MAJOR', 'MAJOR'],
  ])('severity %s → %s', (code, name) => expect(alarmSeverityName(code)).toBe(name));
  it.each([
    [0, 'NO_ALARM'],
    [3, 'HIHI'],
    [17, 'UDF'],
    [21, 'WRITE_ACCESS'],
    [22, '22'],
    [{ name: 'LOLO' }, 'LOLO'],
  ])('status %s → %s', (code, name) => expect(alarmStatusName(code)).toBe(name));

  it('formats an alarm from metadata', () => {
    expect(formatAlarm({ status: 3, severity: 2 })).toBe('MAJOR / HIHI');
    expect(formatAlarm({ status: 0, severity: 0 })).toBe('NO_ALARM');
    expect(formatAlarm({ status: 'UDF', severity: 'INVALID' })).toBe('INVALID / UDF');
    expect(formatAlarm({ units: 'mm' })).toBe('');
  });
});

describe('ECA status', () => {
  it.each([
    [1, 'NORMAL', 'SUCCESS', true],
    [152, 'GETFAIL', 'WARNING', false],
    [142, 'INTERNAL', 'FATAL', false],
    [114, 'BADTYPE', 'ERROR', false],
    [339, 'IODONE', 'INFO', true],
    [464, '16KARRAYCLIENT', 'WARNING', false],
  ])('code %i is %s', (code, name, severity, ok) => {
    expect(ecaStatus(code)).toEqual({ name, severity, ok });
  });
  it('names a known message number whatever its severity bits, and keeps unknown codes numeric', () => {
    expect(ecaStatus(153)).toEqual({ name: 'GETFAIL', severity: 'SUCCESS', ok: true });
    expect(ecaStatus(8000)).toEqual({ name: 'ECA#8000', severity: 'WARNING', ok: false });
  });
  it('reads names and decoded objects', () => {
    expect(ecaStatus('ECA_NORMAL')).toMatchObject({ name: 'NORMAL', ok: true });
    expect(ecaStatus('PUTFAIL')).toMatchObject({ name: 'PUTFAIL', ok: false });
    expect(ecaStatus({ code: 160, name: 'ECA_PUTFAIL' })).toEqual({ name: 'PUTFAIL', severity: 'WARNING', ok: false });
    expect(ecaStatus(undefined)).toBeNull();
  });
});

describe('values', () => {
  it('formats scalars with precision and units', () => {
    expect(formatValue([3.14159], { precision: 2, units: 'mm' })).toBe('3.14 mm');
    expect(formatValue(42)).toBe('42');
    expect(formatValue(['hello'])).toBe('"hello"');
  });
  it('shows enum indexes with their strings', () => {
    const opts = valueFormatOf({ enum_strings: ['Off', 'On', 'Fault'] });
    expect(formatValue([1], opts)).toBe('On');
    expect(formatValue([7], opts)).toBe('7 (?)');
  });
  it('elides long arrays and keeps their length', () => {
    const arr = Array.from({ length: 1000 }, (_, i) => i);
    expect(formatValue(arr)).toBe('[1000] 0, 1, 2, 3, 4, 5, … 993 more …, 999');
    expect(formatValue([1, 2, 3])).toBe('[3] 1, 2, 3');
    expect(formatValue([])).toBe('[]');
  });
});

describe('small formats', () => {
  it('formats access rights and DBR type names', () => {
    expect(formatAccessRights(3)).toBe('RW');
    expect(formatAccessRights(1)).toBe('R-');
    expect(formatAccessRights({ read: false, write: true })).toBe('-W');
    expect(dbrTypeName(20)).toBe('TIME_DOUBLE');
    expect(dbrTypeName(99)).toBe('99');
    expect(dbrTypeName('DBR_CTRL_ENUM')).toBe('CTRL_ENUM');
  });
});

describe('FLOAT values and what is known of the channel', () => {
  it('prints a FLOAT in its shortest float32 form, not the double it widens to', () => {
    const f = Math.fround(42.26);
    expect(String(f)).toBe('42.2599983215332');
    expect(shortestFloat32(f)).toBe('42.26');
    expect(shortestFloat32(Math.fround(0.1))).toBe('0.1');
    expect(shortestFloat32(Math.fround(1e-7))).toBe('1e-7');
    expect(shortestFloat32(Math.fround(16777217))).toBe('16777216');
    expect(shortestFloat32(Math.fround(-3.4028235e38))).toBe('-3.4028235e+38');
    for (const v of [Math.PI, 1 / 3, 123456.789, 6.02e23, -0.000123]) {
      const f32 = Math.fround(v);
      expect(Math.fround(Number(shortestFloat32(f32)))).toBe(f32);
    }
    expect(formatValue(new Float32Array([42.26, 1.5]))).toBe('[2] 42.26, 1.5');
    expect(formatValue([f], { float32: true, units: 'mm' })).toBe('42.26 mm');
    // A DOUBLE keeps every digit it has.
    expect(formatValue([42.2599983215332])).toBe('42.2599983215332');
  });

  it('knows the FLOAT DBR types by id or name', () => {
    expect(['FLOAT', 'TIME_FLOAT', 'DBR_CTRL_FLOAT', 2, 16].map(isFloat32Type)).toEqual([true, true, true, true, true]);
    expect(['DOUBLE', 'TIME_DOUBLE', 'ENUM', 6, undefined].map(isFloat32Type)).toEqual([
      false,
      false,
      false,
      false,
      false,
    ]);
  });

  it('uses the channel precision, units and enum strings from an earlier GR/CTRL reply', () => {
    const update = { name: 'EventAddResponse', data: [Math.fround(42.26)], data_type: 'TIME_FLOAT', subscriptionid: 3 };
    expect(summarizeFields(update)).toBe('42.26 data_type=TIME_FLOAT subscriptionid=3');
    expect(summarizeFields(update, 160, { precision: 1, units: 'degC' })).toBe(
      '42.3 degC data_type=TIME_FLOAT subscriptionid=3',
    );
    const state = { name: 'EventAddResponse', data: [0], data_type: 'TIME_ENUM', subscriptionid: 4 };
    expect(summarizeFields(state, 160, { enumStrings: ['Off', 'On'] })).toBe(
      'Off data_type=TIME_ENUM subscriptionid=4',
    );
    // The message's own metadata wins over what was remembered.
    const gr = { ...update, data_type: 'GR_FLOAT', metadata: { precision: 3, units: 'mm' } };
    expect(summarizeFields(gr, 160, { precision: 1, units: 'degC' })).toMatch(/^42\.260 mm /);
  });
});

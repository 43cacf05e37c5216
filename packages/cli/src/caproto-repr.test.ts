import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DbrMetadata } from '@ca-shark/protocol';
import {
  accessRightsRepr,
  caStatusRepr,
  channelTypeRepr,
  dbrDataRepr,
  dbrMetadataRepr,
  MAX_METADATA_VALUES,
  metadataValues,
  pyBytesOf,
  writeMetadataValues,
} from './caproto-repr.js';
import { asString } from './text-buffer.js';

/** `kind<TAB>value<TAB>repr` lines printed by caproto itself (scripts/caproto-reprs.py). */
const REPRS = readFileSync(new URL('../fixtures/caproto/caproto-reprs.txt', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .map((line) => line.split('\t') as [string, string, string]);

function cases(kind: string): [number, string][] {
  return REPRS.filter(([k]) => k === kind).map(([, v, repr]) => [Number(v), repr]);
}

describe("caproto's reprs of its value types", () => {
  it.each(cases('status'))('CAStatusCode %i', (code, repr) => expect(caStatusRepr(code)).toBe(repr));
  it.each(cases('access_rights'))('AccessRights %i', (v, repr) => expect(accessRightsRepr(v)).toBe(repr));
  it.each(cases('data_type'))('ChannelType %i', (t, repr) => expect(channelTypeRepr(t)).toBe(repr));
  it('has every code caproto has', () => {
    expect(cases('status')).toHaveLength(61);
    expect(cases('data_type')).toHaveLength(39);
  });
  it('prints what caproto-shark prints when caproto has no member', () => {
    // caproto-shark's Message.__repr__ prints a failing property as `(repr: <exception>)`.
    expect(caStatusRepr(7)).toBe('(repr: 7)');
    expect(channelTypeRepr(99)).toBe('(repr: 99 is not a valid ChannelType)');
  });
});

describe('DBR metadata and payloads as caproto holds them', () => {
  const statuses = new Map(cases('alarm_status'));
  const severities = new Map(cases('alarm_severity'));
  it('names alarm statuses and severities as caproto does, timestamps in whole microseconds', () => {
    // caproto: EPICS epoch + seconds + 1e-6 * int(1e-3 * nanoseconds)
    const meta = { status: 17, severity: 3, secondsPastEpoch: 919371551, nanoseconds: 51435999 };
    expect(dbrMetadataRepr(meta, 20)).toBe(
      `DBR_TIME_DOUBLE(status=${statuses.get(17)}, severity=${severities.get(3)}, timestamp=1550523551.051435)`,
    );
    for (const [sev, repr] of severities) expect(dbrMetadataRepr({ severity: sev }, 7)).toContain(`severity=${repr})`);
    for (const [st, repr] of statuses)
      expect(dbrMetadataRepr({ status: st }, 7)).toBe(`DBR_STS_STRING(status=${repr})`);
  });
  it('prints control metadata fields in caproto order, limits of float types as floats', () => {
    const limits = {
      upperDisplayLimit: 10,
      lowerDisplayLimit: -10,
      upperAlarmLimit: 9,
      upperWarningLimit: 8,
      lowerWarningLimit: -8,
      lowerAlarmLimit: -9,
      upperControlLimit: 5,
      lowerControlLimit: -5,
    };
    expect(dbrMetadataRepr({ status: 0, severity: 0, ...limits, precision: 3, units: 'mm' }, 34)).toBe(
      'DBR_CTRL_DOUBLE(status=<AlarmStatus.NO_ALARM: 0>, severity=<AlarmSeverity.NO_ALARM: 0>, ' +
        'upper_disp_limit=10.0, lower_disp_limit=-10.0, upper_alarm_limit=9.0, upper_warning_limit=8.0, ' +
        'lower_warning_limit=-8.0, lower_alarm_limit=-9.0, upper_ctrl_limit=5.0, lower_ctrl_limit=-5.0, ' +
        "precision=3, units=b'mm')",
    );
    const { upperControlLimit: _u, lowerControlLimit: _l, ...graphic } = limits;
    expect(dbrMetadataRepr({ ...graphic, units: 'V' }, 22)).toBe(
      'DBR_GR_INT(upper_disp_limit=10, lower_disp_limit=-10, upper_alarm_limit=9, upper_warning_limit=8, ' +
        "lower_warning_limit=-8, lower_alarm_limit=-9, units=b'V')",
    );
    expect(dbrMetadataRepr({ enumStrings: ['Off'] }, 31)).toBe("DBR_CTRL_ENUM(enum_strings=(b'Off',))");
    expect(dbrMetadataRepr({ enumStrings: ['Off', 'On'] }, 24)).toBe("DBR_GR_ENUM(enum_strings=(b'Off', b'On'))");
  });
  it('prints strings as a list of bytes and numbers as numpy arrays of the native type', () => {
    expect(dbrDataRepr(['a', "it's"], 14)).toBe(`[b'a', b"it\\'s"]`.replace('b"it\\\'s"', "b'it\\'s'"));
    expect(dbrDataRepr([1, 2], 15)).toBe('array([1, 2], dtype=int16)');
    expect(dbrDataRepr([3], 17)).toBe('array([3], dtype=uint16)');
    expect(dbrDataRepr([1.5], 9)).toBe('array([1.5], dtype=float32)');
    expect(dbrDataRepr(new Uint8Array([104, 105]), 4)).toBe('array([104, 105], dtype=uint8)');
    expect(pyBytesOf('é\t\\')).toBe("b'\\xc3\\xa9\\t\\\\'");
  });
});

/** The structures of each kind, with the values that print in special ways (none, -0, NaN, escaped units). */
const LIMITS = {
  upperDisplayLimit: 10.5,
  lowerDisplayLimit: -0,
  upperAlarmLimit: Number.NaN,
  upperWarningLimit: Infinity,
  lowerWarningLimit: -8,
  lowerAlarmLimit: 1e-7,
  upperControlLimit: 2 ** 53 + 2,
  lowerControlLimit: -5,
};
const CARRIED: [DbrMetadata, number][] = [
  [{ status: 17, severity: 3, secondsPastEpoch: 919371551, nanoseconds: 51435999, timestamp: 1550523551.05 }, 20],
  [{ status: 0, severity: 0, secondsPastEpoch: 0, nanoseconds: 0 }, 19],
  [{ status: 99, severity: 7 }, 7],
  [{ timestamp: 1550523551.25 }, 16],
  [{ status: 0, severity: 0, ...LIMITS, precision: 3, units: 'mm' }, 34],
  [{ status: 1, severity: 1, ...LIMITS, precision: -2, units: "deg'\\\tC" }, 30],
  [{ ...LIMITS, units: 'é°µ'.repeat(13) }, 22],
  [{ precision: 3, units: 'mm' }, 34],
  [{ upperDisplayLimit: 1 }, 29],
  [{}, 99],
  // Units as the last ones, then others of the same length (the other thread keeps the last units text).
  [{ upperDisplayLimit: 1, units: 'mm' }, 29],
  [{ upperDisplayLimit: 1, units: 'mn' }, 29],
  [{ upperDisplayLimit: 1, units: '' }, 29],
];

describe('DBR metadata as numbers (the structure a data layout hole carries to the other thread)', () => {
  it('writes from its numbers what writeDbrMetadata writes from the structure', () => {
    for (const [meta, dataType] of CARRIED) {
      const values = new Float64Array(3 + MAX_METADATA_VALUES).fill(-1);
      const count = metadataValues(meta, values, 3);
      expect(count, JSON.stringify(meta)).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(MAX_METADATA_VALUES);
      let read = 0;
      expect(asString((out) => (read = writeMetadataValues(out, values, 3, dataType)))).toBe(
        dbrMetadataRepr(meta, dataType),
      );
      expect(read).toBe(count);
    }
  });

  it('carries no enum strings, STSACK fields, fields that are not numbers or long units', () => {
    const refused: DbrMetadata[] = [
      { status: 0, severity: 0, enumStrings: ['Off'] },
      { status: 0, severity: 0, ackt: 1, acks: 2 },
      { status: 0, acks: 0 },
      { status: '0' as unknown as number },
      { ...LIMITS, upperAlarmLimit: null as unknown as number },
      { ...LIMITS, units: 'u'.repeat(41) },
      { ...LIMITS, units: 5 as unknown as string },
    ];
    for (const meta of refused) expect(metadataValues(meta, new Float64Array(MAX_METADATA_VALUES), 0)).toBe(0);
  });
});

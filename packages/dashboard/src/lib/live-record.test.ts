import { describe, expect, it } from 'vitest';
import { isFullRecord, liveRecordOf } from './live-record.js';
import { fullRecord } from './test-support/records.js';

describe('liveRecordOf', () => {
  it('makes the Live row of a full record: endpoints, the shared summary, failed status, latency', () => {
    const full = fullRecord({
      frame: 12,
      timestamp: 1550679069.309346,
      src: '10.0.0.9',
      dst: '10.0.0.5',
      sport: 5064,
      dport: 40000,
      command: {
        name: 'WriteNotifyResponse',
        id: 19,
        data_type: 3,
        data_type_name: 'ENUM',
        data_count: 1,
        ioid: 7,
        status: 160,
        status_name: 'ECA_PUTFAIL',
        severity: 'ERROR',
      },
      pv: 'sim:enum',
      role: 'response',
      latency: 0.00123,
      size: 24,
    });
    expect(isFullRecord(full)).toBe(true);
    const row = liveRecordOf(full, 41);
    expect(row).toEqual({
      id: 41,
      frame: 12,
      t: 1550679069.309346,
      src: '10.0.0.9:5064',
      dst: '10.0.0.5:40000',
      proto: 'tcp',
      cmd: 'WriteNotifyResponse',
      pv: 'sim:enum',
      summary: 'data_type=ENUM data_count=1 ioid=7 status=PUTFAIL',
      latency: 0.00123,
      status: 'ECA_PUTFAIL',
      error: true,
      size: 24,
    });
    expect(isFullRecord(row)).toBe(false);
  });
});

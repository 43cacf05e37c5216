import { describe, expect, it } from 'vitest';
import { downloadName, LIVE_EXPORT_COLUMNS, pcapUrl, tableCsv, tableNdjson, tableText } from './export.js';
import type { Column } from './table.js';

interface Row {
  pv: string;
  n: number | null;
}
const columns: Column<Row>[] = [
  { key: 'pv', label: 'PV', text: (r) => r.pv },
  { key: 'n', label: 'Count, all', numeric: true, text: (r) => (r.n === null ? '' : String(r.n)) },
];

describe('table downloads', () => {
  it('writes CSV as displayed, quoting commas, quotes and line breaks (RFC 4180)', () => {
    const rows: Row[] = [
      { pv: 'a:b', n: 1 },
      { pv: 'say "hi"', n: null },
      { pv: 'x,y\nz', n: 3 },
    ];
    expect(tableCsv(columns, rows)).toBe('PV,"Count, all"\r\na:b,1\r\n"say ""hi""",\r\n"x,y\nz",3\r\n');
    expect(tableCsv(columns, [])).toBe('PV,"Count, all"\r\n');
  });

  it('writes NDJSON rows as they are', () => {
    const rows = [
      { pv: 'a', n: 1 },
      { pv: 'b', n: null },
    ];
    expect(tableNdjson(rows)).toBe('{"pv":"a","n":1}\n{"pv":"b","n":null}\n');
    expect(tableText('ndjson', columns, rows)).toBe(tableNdjson(rows));
    expect(tableText('csv', columns, rows)).toBe(tableCsv(columns, rows));
  });

  it('writes every field of a live record, the time in UTC', () => {
    const record = {
      id: 7,
      frame: 12,
      t: 1_700_000_000.5,
      src: '10.0.0.1:40000',
      dst: '10.0.0.2:5064',
      proto: 'tcp' as const,
      cmd: 'ReadNotifyResponse',
      pv: 'a:b',
      summary: 'data=[1.5]',
      latency: 0.002,
      status: null,
      error: false,
      size: 40,
    };
    expect(tableCsv(LIVE_EXPORT_COLUMNS, [record]).split('\r\n')).toEqual([
      'id,time,frame,src,dst,proto,command,pv,summary,latency_s,status,error,size',
      '7,2023-11-14T22:13:20.500Z,12,10.0.0.1:40000,10.0.0.2:5064,tcp,ReadNotifyResponse,a:b,data=[1.5],0.002,,false,40',
      '',
    ]);
  });

  it('names files by table and UTC time', () => {
    expect(downloadName('channels', 'csv', new Date(Date.UTC(2026, 11, 6, 5, 30, 0, 123)))).toBe(
      'ca-shark-channels-20261206T053000Z.csv',
    );
  });
});

describe('pcapUrl', () => {
  it('asks /api/pcap beside the page for the filter, with the page token', () => {
    const loc = { origin: 'https://gw', pathname: '/ca/index.html', search: '?token=a b' };
    expect(pcapUrl(loc, { pv: ['x:*', 'y'], host: ['10.0.0.0/8'], command: ['read,write'], errors: true })).toBe(
      'https://gw/ca/api/pcap?pv=x%3A*&pv=y&host=10.0.0.0%2F8&command=read%2Cwrite&errors=1&token=a+b',
    );
    expect(pcapUrl({ origin: 'http://h', pathname: '/', search: '' }, {})).toBe('http://h/api/pcap');
  });
});

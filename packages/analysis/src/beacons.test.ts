import { describe as suite, expect, it } from 'vitest';
import { Analyzer } from './report.js';
import { rec } from './test-support/records.js';

const IOC = '10.0.0.9';
function beacon(t: number, id: number, { from = `${IOC}:40001`, address = '0.0.0.0', port = 5064, version = 13 } = {}) {
  return rec(t, from, '10.0.0.255:5065', {
    name: 'Beacon',
    id: 13,
    version,
    server_port: port,
    beacon_id: id,
    address,
  });
}
const causes = (a: Analyzer) =>
  a.report().beacons!.flatMap((b) => b.anomalies.map((x) => `${x.cause}#${x.beacon_id ?? '-'}`));

suite('beacon analysis', () => {
  it('finds no anomaly in a steady beacon train and reports its period', () => {
    const a = new Analyzer();
    for (let i = 0; i < 10; i++) a.add(beacon(100 + i * 15, 50 + i));
    const [entry] = a.report().beacons!;
    expect(entry).toMatchObject({
      server: `${IOC}:5064`,
      count: 10,
      first_beacon_id: 50,
      last_beacon_id: 59,
      anomalies: [],
    });
    expect(entry.average_period).toBeCloseTo(15, 9);
  });

  it('reads a server start-up ramp as one restart, not as a string of long gaps', () => {
    const a = new Analyzer();
    let t = 10;
    let period = 0.02;
    for (let id = 0; id < 10; id++) {
      a.add(beacon(t, id));
      t += Math.min(period, 15);
      period *= 2;
    }
    expect(causes(a)).toEqual(['restart#0']);
  });

  it('calls a long gap a network interruption and a shorter one a missed beacon (libca thresholds)', () => {
    const a = new Analyzer();
    for (let i = 0; i < 5; i++) a.add(beacon(i * 10, 100 + i)); // t = 0..40, average 10 s
    a.add(beacon(40 + 14, 105)); // 1.4 × average: missed beacon
    a.add(beacon(54 + 10, 106));
    a.add(beacon(64 + 40, 107)); // ≥ 3.25 × average: network interruption
    expect(causes(a)).toEqual(['missed-beacon#105', 'network-interruption#107']);
  });

  it('tells a restart (id reset, short period) from a duplicate route (repeated id)', () => {
    const a = new Analyzer();
    for (let i = 0; i < 4; i++) a.add(beacon(i * 10, 500 + i));
    a.add(beacon(30.001, 503)); // the same beacon again over a second route
    a.add(beacon(32, 0)); // the IOC rebooted
    expect(causes(a)).toEqual(['duplicate-route#503', 'restart#0']);
  });

  it('judges servers without a beacon counter (before 4.10) by the period alone', () => {
    const a = new Analyzer();
    for (let i = 0; i < 5; i++) a.add(beacon(i * 15, 0, { version: 0 }));
    a.add(beacon(60 + 2, 0, { version: 0 })); // a 3.13 IOC rebooted: its beacons come fast again
    expect(causes(a)).toEqual(['restart#0']);
  });

  it('flags a beacon whose announced address differs from its sender, and servers without beacons', () => {
    const a = new Analyzer();
    a.add(beacon(1, 7, { address: '10.0.0.99' }));
    a.add(rec(2, '10.0.0.5:40000', '10.0.0.255:5064', { name: 'SearchRequest', id: 6, cid: 1 }, { pv: 'x' }));
    a.add(
      rec(
        2.001,
        '10.0.0.20:5064',
        '10.0.0.5:40000',
        { name: 'SearchResponse', id: 6, ip: '255.255.255.255', port: 5070, cid: 1 },
        { pv: 'x' },
      ),
    );
    const beacons = a.report().beacons!;
    expect(beacons.map((b) => [b.server, b.anomalies.map((x) => x.cause)])).toEqual([
      ['10.0.0.20:5070', ['no-beacons']],
      ['10.0.0.99:5064', ['address-mismatch']],
    ]);
  });

  it('does not count repeater-forwarded copies as beacons', () => {
    const a = new Analyzer();
    a.add(beacon(1, 1));
    a.add(beacon(1.0001, 1, { from: '127.0.0.1:5065', address: IOC }));
    expect(a.report().beacons!).toMatchObject([{ server: `${IOC}:5064`, count: 1, forwarded: 1, anomalies: [] }]);
  });
});

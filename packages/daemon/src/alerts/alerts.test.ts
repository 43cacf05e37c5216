import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import { describe, expect, it } from 'vitest';
import { runEngine } from '../test-support/engine.js';
import type { SnapshotView } from '../views.js';
import { type AlertNotice, EngineAlerts } from './alerts.js';
import { AlertBook } from './book.js';
import { DEFAULT_ALERTS_CONFIG, readAlertsConfig, resolveAlertsConfig } from './config.js';

const config = (over: Partial<typeof DEFAULT_ALERTS_CONFIG> = {}) => ({ ...DEFAULT_ALERTS_CONFIG, ...over });

describe('AlertBook', () => {
  it('keeps one row per kind and subject with first seen, last seen and count', () => {
    const book = new AlertBook(config());
    for (let i = 0; i < 98; i++)
      book.raise({ kind: 'beacon-restart', subject: '10.0.0.9:5064', time: 100 + i, message: `restart ${i}` });
    book.raise({ kind: 'beacon-restart', subject: '10.0.0.8:5064', time: 150, message: 'other server' });
    const rows = book.list();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      key: 'beacon-restart 10.0.0.9:5064',
      severity: 'warn',
      firstSeen: 100,
      lastSeen: 197,
      count: 98,
      message: 'restart 97',
    });
  });

  it('never lets repeated warnings push an error out', () => {
    const book = new AlertBook(config({ maxGroups: 5 }));
    book.raise({ kind: 'capture-drops', subject: '', time: 1, message: 'dropped 3 packets' });
    for (let i = 0; i < 500; i++)
      book.raise({ kind: 'search-storm', subject: `pv:${i}`, time: 2 + i, message: 'storm' });
    const rows = book.list();
    expect(rows[0]).toMatchObject({ kind: 'capture-drops', severity: 'error' });
    expect(rows.filter((r) => r.severity === 'warn')).toHaveLength(5);
    // The most recently seen warnings are kept.
    expect(rows.at(-1)?.subject).toBe('pv:495');
    expect(book.totals()).toMatchObject({ groups: { error: 1, warn: 5, info: 0 }, forgotten: 495 });
  });

  it('acknowledges a group until it comes back after a quiet spell, and notifies new and returning groups', () => {
    const events: string[] = [];
    const book = new AlertBook(config({ reopenAfter: 600 }), (g, e) => events.push(`${e} ${g.key}`));
    book.raise({ kind: 'duplicate-pv', subject: 'a:b', time: 10, message: 'two servers' });
    expect(book.acknowledge('duplicate-pv a:b', 20)).toBe(true);
    expect(book.acknowledge('duplicate-pv nope', 20)).toBe(false);
    expect(book.totals().open.error).toBe(0);
    // Recurring while it goes on: still acknowledged, the count shows what came since.
    book.raise({ kind: 'duplicate-pv', subject: 'a:b', time: 30, message: 'two servers' });
    expect(book.find('duplicate-pv a:b')).toMatchObject({ count: 2, acknowledged: { at: 20, count: 1 } });
    // Back after ten quiet minutes: a new episode.
    book.raise({ kind: 'duplicate-pv', subject: 'a:b', time: 700, message: 'two servers again' });
    expect(book.find('duplicate-pv a:b')?.acknowledged).toBeNull();
    expect(events).toEqual(['opened duplicate-pv a:b', 'reopened duplicate-pv a:b']);
  });

  it('raises nothing for a kind turned off and uses the configured severity', () => {
    const book = new AlertBook(resolveAlertsConfig({ severity: { 'multi-path': 'off', 'beacon-restart': 'error' } }));
    book.raise({ kind: 'multi-path', subject: 'x', time: 1, message: 'm' });
    book.raise({ kind: 'beacon-restart', subject: 's', time: 1, message: 'r' });
    expect(book.list().map((g) => `${g.kind}:${g.severity}`)).toEqual(['beacon-restart:error']);
  });

  it("groups a central's alerts about a sensor by kind and sensor, and the group names the sensor", () => {
    const book = new AlertBook(config());
    const drops = (sensor: string, time: number) =>
      book.raise({ kind: 'sensor-drops', subject: sensor, sensor, time, message: `sensor ${sensor} dropped` });
    drops('k', 10);
    drops('k', 20);
    drops('m', 15);
    book.raise({ kind: 'sensor-silent', subject: 'k', sensor: 'k', time: 30, message: 'silent' });
    expect(book.list().map((g) => [g.key, g.severity, g.count, g.sensor])).toEqual([
      ['sensor-drops k', 'error', 2, 'k'],
      ['sensor-drops m', 'error', 1, 'm'],
      ['sensor-silent k', 'warn', 1, 'k'],
    ]);
    // A single host's groups carry no sensor.
    book.raise({ kind: 'capture-drops', subject: '', time: 40, message: 'drops' });
    expect(book.find('capture-drops ')).not.toHaveProperty('sensor');
  });
});

/** libca's search back-off for a PV nobody serves: 30 ms doubling up to `max` seconds. */
function backoffTimes(start: number, until: number, max = 5): number[] {
  const out: number[] = [];
  let period = 0.03;
  for (let t = start; t < until; t += period, period = Math.min(period * 2, max)) out.push(t);
  return out;
}

describe('search storms', () => {
  const storms = (alerts: EngineAlerts) => alerts.view().groups.filter((g) => g.kind.startsWith('search'));

  it('does not call a client start-up, a simulator start or a PV searched at 0.1/s a storm', () => {
    const alerts = new EngineAlerts();
    // 20 clients start at once, each searching 500 PVs (found at the first search: never repeated).
    for (let c = 0; c < 20; c++)
      for (let i = 0; i < 500; i++) alerts.search(`pv:${i}`, `10.0.0.${c}:40000`, 0.01 * i, false);
    // 30 PVs nobody serves, retried with libca's back-off for ten minutes, and one PV searched every ten
    // seconds; in capture order, as the engine sees them.
    const searches: [number, string, string, boolean][] = [];
    for (let i = 0; i < 30; i++)
      for (const [n, t] of backoffTimes(i * 0.001, 600).entries())
        searches.push([t, `missing:${i}`, '10.0.0.1:40000', n > 0]);
    for (let t = 0; t < 600; t += 10) searches.push([t, 'slow:pv', '10.0.0.2:40000', t > 0]);
    searches.sort((a, b) => a[0] - b[0]);
    for (const [t, pv, client, repeat] of searches) alerts.search(pv, client, t, repeat);
    alerts.update({}, 600);
    expect(storms(alerts)).toEqual([]);
  });

  it('flags a PV searched again and again, dated from when the storm began', () => {
    const alerts = new EngineAlerts();
    // Quiet, then from t=100 a client retries one channel 5 times a second for two minutes.
    alerts.search('hot:pv', '10.0.0.3:40000', 10, false);
    for (let i = 0; i < 600; i++) alerts.search('hot:pv', '10.0.0.3:40000', 100 + i * 0.2, true);
    alerts.update({}, 220);
    const [storm] = storms(alerts);
    expect(storm).toMatchObject({ kind: 'search-storm', subject: 'hot:pv', severity: 'warn', firstSeen: 100 });
    expect(storm.count).toBe(600);
    expect(storm.lastSeen).toBeCloseTo(219.8, 5);
    expect(storm.message).toMatch(/hot:pv searched 5\.0\/s over the last 60 s \(limit 1\/s\)/);
    // Once it stops, a later update adds nothing.
    alerts.update({}, 1000);
    expect(storms(alerts)[0].count).toBe(600);
  });

  it('flags a client repeating searches of many PVs above the client rate', () => {
    const alerts = new EngineAlerts(resolveAlertsConfig({ searchStorm: { clientRate: 10 } }));
    // 50 PVs, each retried every 2 s (0.5/s each, under the PV limit), 25/s from the client.
    for (let t = 0; t < 120; t += 2)
      for (let i = 0; i < 50; i++) alerts.search(`p:${i}`, '10.0.0.4:40000', t + i * 0.01, t > 0);
    alerts.update({}, 120);
    expect(storms(alerts).map((g) => `${g.kind} ${g.subject}`)).toEqual(['search-client 10.0.0.4:40000']);
  });
});

/** Feeds a pcap into an in-process engine and returns its snapshot (what the worker publishes). */
function snapshotOf(bytes: Uint8Array, notices: AlertNotice[] = []): SnapshotView {
  return runEngine(bytes, { onAlert: (n) => notices.push(n) }).snapshot();
}

const T0 = 1_700_000_000;
const IOC = '10.0.0.9';

/** A simulator starting (beacons from id 0, ramping up) while clients search for its PVs and some missing ones. */
function startUp(w: PcapWriter): void {
  let period = 0.02;
  for (let id = 0, t = T0; t < T0 + 300; id++, t += period, period = Math.min(period * 2, 15)) {
    w.udp(
      t,
      IOC,
      5064,
      '10.0.0.255',
      5065,
      build.beacon({ version: 13, server_port: 5064, beacon_id: id, address: IOC }),
    );
  }
  for (let c = 0; c < 5; c++) {
    for (let i = 0; i < 100; i++) {
      const req = concatBytes([
        build.versionRequest({ sequence: 1 }),
        build.searchRequest({ name: `sim:pv${i}`, cid: i }),
      ]);
      w.udp(T0 + 1 + i * 0.001, `10.0.0.${20 + c}`, 40000, '10.0.0.255', 5064, req);
    }
  }
  for (let i = 0; i < 5; i++) {
    for (const t of backoffTimes(T0 + 1, T0 + 300, 2)) {
      const req = concatBytes([
        build.versionRequest({ sequence: 1 }),
        build.searchRequest({ name: `sim:missing:${i}`, cid: 1000 + i }),
      ]);
      w.udp(t + i * 0.001, '10.0.0.30', 40001, '10.0.0.255', 5064, req);
    }
  }
}

describe('engine alerts on crafted captures', () => {
  it('a simulator start with clients searching raises only an info "server-start", no storm', () => {
    const w = new PcapWriter();
    startUp(w);
    const notices: AlertNotice[] = [];
    const snap = snapshotOf(w.bytes(), notices);
    expect(snap.alerts.map((a) => `${a.severity} ${a.kind} ${a.subject}`)).toEqual([`info server-start ${IOC}:5064`]);
    expect(snap.alertTotals.open).toEqual({ error: 0, warn: 0, info: 1 });
    expect(notices.map((n) => `${n.event} ${n.alert.kind}`)).toEqual(['opened server-start']);
  });

  it('a real storm after the start-up is one grouped row that says when it began', () => {
    const w = new PcapWriter();
    startUp(w);
    // From T0+200 one client retries one channel 10 times a second for 90 s.
    for (let t = T0 + 200; t < T0 + 290; t += 0.1) {
      w.udp(
        t,
        '10.0.0.40',
        40002,
        '10.0.0.255',
        5064,
        concatBytes([build.versionRequest({ sequence: 1 }), build.searchRequest({ name: 'sim:typo', cid: 5 })]),
      );
    }
    const snap = snapshotOf(w.bytes());
    const storm = snap.alerts.filter((a) => a.kind === 'search-storm');
    expect(storm).toHaveLength(1);
    expect(storm[0].subject).toBe('sim:typo');
    expect(storm[0].firstSeen).toBeCloseTo(T0 + 200.1, 3);
    expect(storm[0].count).toBeGreaterThan(800);
  });
});

describe('alerts configuration', () => {
  const dir = mkdtempSync(join(tmpdir(), 'alerts-config-'));
  const file = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('layers the file over the defaults and flags over the file', () => {
    const path = file(
      'ok.json',
      JSON.stringify({
        searchStorm: { pvRate: 2 },
        severity: { 'multi-path': 'off' },
        webhook: { url: 'http://127.0.0.1:9/hook' },
      }),
    );
    const c = resolveAlertsConfig(readAlertsConfig(path), { searchStorm: { window: 30 } });
    expect(c.searchStorm).toEqual({ pvRate: 2, clientRate: 20, window: 30 });
    expect(c.severity).toEqual({ 'multi-path': 'off' });
    expect(c.webhook).toMatchObject({
      url: 'http://127.0.0.1:9/hook',
      attempts: 5,
      maxPerMinute: 6,
      minSeverity: 'warn',
    });
    expect(resolveAlertsConfig()).toEqual(DEFAULT_ALERTS_CONFIG);
  });

  it('refuses a misspelt key, a wrong value or a file that is not JSON with one line', () => {
    expect(() => readAlertsConfig(file('typo.json', '{"searchStrom":{}}'))).toThrow(/unknown key "searchStrom"/);
    expect(() => readAlertsConfig(file('sev.json', '{"severity":{"beacon-restart":"loud"}}'))).toThrow(
      /at severity\.beacon-restart: one of info, warn, error, off/,
    );
    expect(() => readAlertsConfig(file('neg.json', '{"searchStorm":{"pvRate":-1}}'))).toThrow(
      /at searchStorm\.pvRate must be > 0/,
    );
    expect(() => readAlertsConfig(file('bad.json', '{'))).toThrow(/not JSON/);
    expect(() => readAlertsConfig(join(dir, 'absent.json'))).toThrow(/cannot read --alerts-config .*ENOENT/);
  });
});

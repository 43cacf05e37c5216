/**
 * Alerts through the whole daemon: a crafted capture replayed with `-r`, the worker's alert groups in the
 * snapshot, acknowledgement over HTTP, and the webhook POSTing to a local receiver.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapWriter } from '@ca-shark/packet';
import { build, concatBytes } from '@ca-shark/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../cli.js';
import type { RunningDaemon } from '../server.js';
import { startTestDaemon } from '../test-support/daemon.js';
import type { SnapshotView } from '../views.js';
import type { WebhookPayload } from './webhook.js';

const T0 = 1_700_000_000;

/** Beacons of a server starting, a client retrying one channel 10 times a second for 90 s. */
function stormCapture(): Uint8Array {
  const w = new PcapWriter();
  for (let id = 0; id < 5; id++)
    w.udp(
      T0 + id * 0.1,
      '10.0.0.9',
      5064,
      '10.0.0.255',
      5065,
      build.beacon({ version: 13, server_port: 5064, beacon_id: id, address: '10.0.0.9' }),
    );
  for (let i = 0; i < 900; i++) {
    const search = concatBytes([
      build.versionRequest({ sequence: 1 }),
      build.searchRequest({ name: 'sim:typo', cid: 5 }),
    ]);
    w.udp(T0 + 1 + i * 0.1, '10.0.0.40', 40002, '10.0.0.255', 5064, search);
  }
  return w.bytes();
}

describe('daemon alerts', { timeout: 30_000 }, () => {
  let daemon: RunningDaemon;
  let receiver: Server;
  const posts: WebhookPayload[] = [];
  const dir = mkdtempSync(join(tmpdir(), 'daemon-alerts-'));

  beforeAll(async () => {
    receiver = createServer((req, res) => {
      let text = '';
      req.on('data', (d: Buffer) => (text += d.toString()));
      req.on('end', () => {
        posts.push(JSON.parse(text) as WebhookPayload);
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    const capture = join(dir, 'storm.pcap');
    writeFileSync(capture, stormCapture());
    daemon = await startTestDaemon(['-r', capture, '--speed', 'max', '--alert-webhook', url]);
    await daemon.engine.whenEnded();
    // A worker thread starting on a busy machine can take a while; nothing here measures time.
  }, 60_000);

  afterAll(async () => {
    await daemon?.shutdown('test over');
    receiver?.close();
  });

  const snapshot = async (): Promise<SnapshotView> => JSON.parse(await daemon.engine.snapshotText()) as SnapshotView;
  const until = async (test: () => Promise<boolean> | boolean): Promise<void> => {
    while (!(await test())) await new Promise((r) => setTimeout(r, 20));
  };

  it('groups the storm into one row and POSTs it (warn and above) to the webhook', async () => {
    await until(async () => (await snapshot()).alerts.some((a) => a.kind === 'search-storm'));
    const snap = await snapshot();
    expect(snap.alerts.map((a) => `${a.severity} ${a.kind} ${a.subject}`)).toEqual([
      'warn search-storm sim:typo',
      'info server-start 10.0.0.9:5064',
    ]);
    const all = await daemon.app.inject('/api/alerts');
    expect(all.statusCode).toBe(200);
    const body = all.json() as { groups: SnapshotView['alerts']; totals: SnapshotView['alertTotals'] };
    expect(body.groups.map((a) => a.key)).toEqual(snap.alerts.map((a) => a.key));
    expect(body.totals.groups).toEqual({ error: 0, warn: 1, info: 1 });
    await until(() => posts.length > 0);
    expect(posts.flatMap((p) => p.alerts.map((a) => `${a.event} ${a.kind} ${a.subject}`))).toEqual([
      'opened search-storm sim:typo',
    ]);
  });

  it('acknowledges a group over HTTP for every page, and refuses unknown keys and bad bodies', async () => {
    const key = 'search-storm sim:typo';
    const ok = await daemon.app.inject({ method: 'POST', url: '/api/alerts/ack', payload: { key } });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toEqual({ acknowledged: key });
    await until(async () => (await snapshot()).alerts.find((a) => a.key === key)?.acknowledged != null);
    const snap = await snapshot();
    expect(snap.alertTotals.open).toEqual({ error: 0, warn: 0, info: 1 });
    // Prometheus sees the same: one acknowledged warning, one open info.
    const metrics = (await daemon.app.inject('/metrics')).body;
    expect(metrics).toContain('ca_sharkd_alert_groups{severity="warn",state="acknowledged"} 1\n');
    expect(metrics).toContain('ca_sharkd_alert_groups{severity="warn",state="open"} 0\n');
    expect(metrics).toContain('ca_sharkd_alert_groups{severity="info",state="open"} 1\n');
    expect(metrics).toContain('ca_sharkd_alert_groups_forgotten_total 0\n');
    const missing = await daemon.app.inject({ method: 'POST', url: '/api/alerts/ack', payload: { key: 'nope x' } });
    expect(missing.statusCode).toBe(404);
    const bad = await daemon.app.inject({ method: 'POST', url: '/api/alerts/ack', payload: { keys: 1 } });
    expect(bad.statusCode).toBe(400);
    const foreign = await daemon.app.inject({
      method: 'POST',
      url: '/api/alerts/ack',
      payload: { key },
      headers: { origin: 'http://evil.example' },
    });
    expect(foreign.statusCode).toBe(403);
  });
});

describe('alert flags', () => {
  it('reads the file, then the flags, and refuses bad values with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alert-flags-'));
    const file = join(dir, 'alerts.json');
    writeFileSync(file, JSON.stringify({ searchStorm: { pvRate: 3, clientRate: 30 }, reopenAfter: 60 }));
    const c = parseCommandLine(['--demo', '--alerts-config', file, '--alert-search-rate', '0.5'], {});
    expect(c.alerts).toMatchObject({
      searchStorm: { pvRate: 0.5, clientRate: 30, window: 60 },
      reopenAfter: 60,
      webhook: null,
    });
    expect(parseCommandLine(['--demo'], {}).alerts.searchStorm).toEqual({ pvRate: 1, clientRate: 20, window: 60 });
    expect(() => parseCommandLine(['--demo', '--alert-search-rate', 'fast'], {})).toThrow(
      /bad --alert-search-rate "fast"/,
    );
    expect(() => parseCommandLine(['--demo', '--alert-webhook', 'ftp://x'], {})).toThrow(/expected an http/);
  });
});

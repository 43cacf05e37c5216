/**
 * NATS over TLS, against a real `nats-server -js --tls` with a certificate made for this run: a sensor and a
 * central that trust the run's CA (`--nats-tls-ca`) exchange every record; a central given another CA is
 * refused, says why, and keeps serving its dashboard.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../cli.js';
import { type RunningDaemon, startDaemon } from '../server.js';
import { freeTcpPort } from '../test-support/daemon.js';
import { NatsServer, haveNatsServer, until } from '../test-support/nats-server.js';
import type { SensorView } from './central.js';

const CATEST = fileURLToPath(new URL('../../../packet/fixtures/catest.pcap', import.meta.url));
const available = haveNatsServer();

/** A CA and a server certificate for 127.0.0.1 signed by it, plus a second CA that signed nothing here. */
interface Pki {
  dir: string;
  ca: string;
  otherCa: string;
  cert: string;
  key: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function makePki(): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'ca-shark-nats-tls-'));
  const selfSigned = (name: string): void =>
    openssl(dir, [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    ]);
  selfSigned('ca');
  selfSigned('other-ca');
  openssl(dir, [
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-subj',
    '/CN=127.0.0.1',
    '-keyout',
    'server.key',
    '-out',
    'server.csr',
  ]);
  // The NATS client checks a loopback server's certificate against the name `localhost`.
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  openssl(dir, [
    'x509',
    '-req',
    '-in',
    'server.csr',
    '-CA',
    'ca.pem',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-days',
    '1',
    '-extfile',
    'server.ext',
    '-out',
    'server.pem',
  ]);
  return {
    dir,
    ca: join(dir, 'ca.pem'),
    otherCa: join(dir, 'other-ca.pem'),
    cert: join(dir, 'server.pem'),
    key: join(dir, 'server.key'),
  };
}

/** Collects what a logger writes. */
function memoryLogger(): { logger: pino.Logger; text: () => string } {
  let log = '';
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      log += chunk.toString();
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, sink), text: () => log };
}

async function daemonWith(args: string[], logger: pino.Logger): Promise<RunningDaemon> {
  const listen = `127.0.0.1:${String(await freeTcpPort())}`;
  return startDaemon(parseCommandLine([...args, '--listen', listen], {}), logger);
}

describe.skipIf(!available)('NATS over TLS', { timeout: 120_000 }, () => {
  let pki: Pki;
  let nats: NatsServer;
  let url: string;
  const running: RunningDaemon[] = [];

  beforeAll(async () => {
    pki = makePki();
    nats = await NatsServer.start(['--tls', '--tlscert', pki.cert, '--tlskey', pki.key]);
    url = `tls://127.0.0.1:${String(nats.port)}`;
  });
  afterAll(async () => {
    for (const d of running.splice(0)) await d.shutdown('test done');
    await nats?.dispose();
    if (pki !== undefined) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('carries every record from a sensor to a central that verify the server with --nats-tls-ca', async () => {
    const { logger } = memoryLogger();
    const sensor = await daemonWith(
      ['-r', CATEST, '--speed', 'max', '--publish', url, '--nats-tls-ca', pki.ca, '--sensor', 'tls'],
      logger,
    );
    running.push(sensor);
    let published = 0;
    sensor.engine.onRecord(() => (published += 1));
    await sensor.engine.whenEnded();
    await until('the sensor to publish everything', () => sensor.publisher?.counters.bufferedRecords === 0);
    const central = await daemonWith(['--subscribe', url, '--nats-tls-ca', pki.ca], logger);
    running.push(central);
    const sensors = async (): Promise<SensorView[]> => (await central.app.inject('/api/sensors')).json<SensorView[]>();
    const row = await until('the records at the central', async () => {
      const [s] = await sensors();
      return s !== undefined && s.records === published && s;
    });
    expect(published).toBeGreaterThan(100);
    expect(row).toMatchObject({ sensor: 'tls', records: published, duplicates: 0 });
    // The packets stay with the sensors: the central says so rather than sending an empty file.
    const pcap = await central.app.inject('/api/pcap');
    expect(pcap.statusCode).toBe(404);
    expect(pcap.json<{ error: string }>().error).toMatch(/central holds no packets.*sensor's dashboard/);
  });

  it('refuses a server whose certificate another CA signed, says so, and keeps serving', async () => {
    const { logger, text } = memoryLogger();
    const central = await daemonWith(['--subscribe', url, '--nats-tls-ca', pki.otherCa], logger);
    running.push(central);
    const refusal = /"err":"[^"]*(certificate|unable to verify)[^"]*".*"msg":"cannot connect to NATS yet: retrying"/;
    await until('the refusal in the log', () => refusal.test(text()), 30_000);
    expect((await central.app.inject('/api/health')).statusCode).toBe(200);
    expect((await central.app.inject('/api/sensors')).json()).toEqual([]);
  });
});

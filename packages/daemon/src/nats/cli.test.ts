import { describe, expect, it } from 'vitest';
import { parseCommandLine } from '../cli.js';

const parse = (args: string[], env: NodeJS.ProcessEnv = {}): ReturnType<typeof parseCommandLine> =>
  parseCommandLine(args, env);

describe('sensor and central options', () => {
  it('makes a sensor of any source with --publish and --sensor', () => {
    const c = parse([
      '-i',
      'eth0',
      '--publish',
      'nats://n1:4222,nats://n2:4222',
      '--sensor',
      'linac-1',
      '--no-dashboard',
    ]);
    expect(c.mode).toBe('live');
    expect(c.noDashboard).toBe(true);
    expect(c.nats).toMatchObject({
      role: 'sensor',
      sensor: 'linac-1',
      settings: { servers: ['nats://n1:4222', 'nats://n2:4222'], stream: { maxAgeMs: 86_400_000 } },
      bufferBytes: 64 * 1024 * 1024,
    });
    expect(parse(['-r', 'x.pcap', '--publish', 'nats://n:4222', '--sensor', 's']).nats?.role).toBe('sensor');
  });

  it('makes a central of --subscribe, which needs no other source', () => {
    const c = parse([
      '--subscribe',
      'tls://n:4222',
      '--sensors',
      'a, b',
      '--central-name',
      'ops',
      '--stream-max-age',
      '2h',
    ]);
    expect(c.mode).toBe('central');
    expect(c.nats).toMatchObject({ role: 'central', sensors: ['a', 'b'], durable: 'ops' });
    expect(c.nats?.settings.stream.maxAgeMs).toBe(7_200_000);
  });

  it('takes credentials from options or the environment', () => {
    const env = { CA_SHARKD_NATS_USER: 'u', CA_SHARKD_NATS_PASS: 'p', CA_SHARKD_NATS_TOKEN: 't' };
    expect(parse(['--subscribe', 'nats://n:4222'], env).nats?.settings).toMatchObject({
      user: 'u',
      pass: 'p',
      token: 't',
    });
    const c = parse(['--subscribe', 'nats://n:4222', '--nats-creds', '/etc/x.creds', '--nats-tls-ca', '/etc/ca.pem']);
    expect(c.nats?.settings).toMatchObject({ credsFile: '/etc/x.creds', tlsCa: '/etc/ca.pem' });
  });

  it.each([
    [['-i', 'eth0', '--publish', 'nats://n:4222'], /--publish needs --sensor NAME/],
    [['-i', 'eth0', '--sensor', 'a'], /--sensor needs --publish URL/],
    [['-i', 'eth0', '--sensors', 'a'], /--sensors needs --subscribe URL/],
    [['-i', 'eth0', '--nats-user', 'u'], /--nats-user needs --publish or --subscribe/],
    [['--subscribe', 'nats://n:4222', '-i', 'eth0'], /choose one source/],
    [['--subscribe', 'nats://n:4222', '--nats-user', 'u'], /user and password go together/],
    [['-i', 'eth0', '--publish', 'nats://n:4222', '--sensor', 'a.b'], /bad --sensor "a.b"/],
    [['-i', 'eth0', '--publish', 'http://n', '--sensor', 'a'], /expected nats:\/\/HOST:PORT/],
    [['--subscribe', 'nats://n:4222', '--stream-max-age', '2 weeks'], /bad --stream-max-age/],
  ])('refuses %j', (args, message) => {
    expect(() => parse(args)).toThrow(message);
  });
});

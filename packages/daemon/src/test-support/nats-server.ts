/**
 * Test helpers for sensor and central modes: a real `nats-server -js` on a free loopback port with a
 * temporary store (installed by scripts/setup.sh), which a test can stop and start again on the same port
 * and store.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freeTcpPort } from './daemon.js';

/** True when `nats-server` is on PATH. */
export function haveNatsServer(): boolean {
  return spawnSync('nats-server', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Waits until `pred` holds (polled), or fails naming `what`. */
export async function until<T>(
  what: string,
  pred: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await pred();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A nats-server with JetStream for one test file. */
export class NatsServer {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly port: number,
    readonly storeDir: string,
    private readonly extraArgs: string[],
    readonly host: string,
  ) {}

  /** nats://127.0.0.1:PORT */
  get url(): string {
    return `nats://${this.host}:${this.port}`;
  }

  /** Starts a server on a free port of `host` (default loopback). */
  static async start(extraArgs: string[] = [], host = '127.0.0.1'): Promise<NatsServer> {
    const server = new NatsServer(await freeTcpPort(), mkdtempSync(join(tmpdir(), 'ca-shark-nats-')), extraArgs, host);
    await server.resume();
    return server;
  }

  /** Starts the server (again) on the same port and store. */
  async resume(): Promise<void> {
    const child = spawn(
      'nats-server',
      ['-js', '-a', this.host, '-p', String(this.port), '-sd', this.storeDir, ...this.extraArgs],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const collect = (d: Buffer): void => {
      this.log += d.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    await until(
      'nats-server to be ready',
      () =>
        this.log.includes('Server is ready') ||
        (child.exitCode !== null ? Promise.reject(new Error(`nats-server exited: ${this.log}`)) : false),
      15_000,
    );
  }

  /** Stops the server (SIGTERM) and waits for it to exit; its store stays. */
  async stop(): Promise<void> {
    const child = this.child;
    if (child === undefined || child.exitCode !== null) return;
    this.log = '';
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
    });
  }

  /** Stops the server and removes its store. */
  async dispose(): Promise<void> {
    await this.stop();
    rmSync(this.storeDir, { recursive: true, force: true });
  }
}

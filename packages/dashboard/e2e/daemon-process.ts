/** The real daemon for browser tests: `ca-sharkd` run from its sources on a free port, serving a built page. */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { PACKAGE_DIR, freePort } from './browser.js';

const REPO = resolve(PACKAGE_DIR, '../..');
/** The daemon's entry point (run through tsx, so the tests never need a built daemon). */
export const DAEMON_MAIN = resolve(REPO, 'packages/daemon/src/main.ts');
/** True when the daemon's sources are there to run. */
export const daemonAvailable = existsSync(DAEMON_MAIN);

/** What {@link DaemonProcess.start} gives the daemon besides its arguments. */
export interface DaemonProcessOptions {
  /** A descriptor for its standard input (a capture file's, for `--stdin`); default none. */
  stdin?: number;
  /** Its `--token`: health checks then send it. */
  token?: string;
}

/** A running `ca-sharkd` child process. */
export class DaemonProcess {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    /** `http://127.0.0.1:PORT/`. */
    readonly url: string,
    private readonly token: string | undefined,
  ) {
    const keep = (b: Buffer): void => {
      this.output = (this.output + b.toString()).slice(-20_000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  /**
   * Starts `ca-sharkd ARGS --listen 127.0.0.1:PORT --dashboard DIST --log-level warn` (and `--token` when
   * given). The caller may close its own copy of `options.stdin` once this resolves.
   */
  static async start(
    args: readonly string[],
    dashboardDir: string,
    options: DaemonProcessOptions = {},
  ): Promise<DaemonProcess> {
    const port = await freePort();
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        DAEMON_MAIN,
        ...args,
        '--listen',
        `127.0.0.1:${port}`,
        '--dashboard',
        dashboardDir,
        '--log-level',
        'warn',
        ...(options.token !== undefined ? ['--token', options.token] : []),
      ],
      { cwd: REPO, stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'] },
    );
    return new DaemonProcess(child, `http://127.0.0.1:${port}/`, options.token);
  }

  /** Its latest output (for failure messages). */
  get log(): string {
    return this.output;
  }

  /** Waits until `/api/health` answers and `ready` accepts the answer (default: any answer). */
  async waitForHealth(ms: number, ready: (health: { eof?: boolean }) => boolean = () => true): Promise<void> {
    const end = Date.now() + ms;
    for (;;) {
      try {
        const query = this.token !== undefined ? `?token=${encodeURIComponent(this.token)}` : '';
        const res = await fetch(`${this.url}api/health${query}`);
        if (res.ok && ready((await res.json()) as { eof?: boolean })) return;
      } catch {
        // not listening yet
      }
      if (this.child.exitCode !== null) throw new Error(`ca-sharkd exited ${this.child.exitCode}:\n${this.output}`);
      if (Date.now() > end) throw new Error(`ca-sharkd was not ready within ${ms} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Stops it (SIGINT, then SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGINT');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  }
}

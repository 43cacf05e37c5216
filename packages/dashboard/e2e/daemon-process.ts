/** The real daemon as a child process of a browser test, run from its TypeScript sources. */
import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { PACKAGE_DIR } from './browser.js';

/** The repository root. */
export const REPO = resolve(PACKAGE_DIR, '../..');
/** The daemon's entry point. */
export const DAEMON_MAIN = resolve(REPO, 'packages/daemon/src/main.ts');

/** A running `ca-sharkd`, its latest output and a way to stop it. */
export interface DaemonProcess {
  readonly child: ChildProcess;
  /** The last 20,000 characters it wrote (stdout and stderr). */
  log(): string;
  /** SIGINT, then SIGKILL if it has not exited within 5 s. */
  stop(): Promise<void>;
}

/** Starts `ca-sharkd ARGS` (sources, through tsx) with the repository as working directory. */
export function spawnDaemon(args: readonly string[]): DaemonProcess {
  const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', DAEMON_MAIN, ...args], {
    cwd: REPO,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const keep = (b: Buffer): void => {
    log = (log + b.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  return {
    child,
    log: () => log,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

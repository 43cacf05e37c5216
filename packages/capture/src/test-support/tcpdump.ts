import { type ChildProcess, spawn, spawnSync } from 'node:child_process';

const BUFFER_KIB = 32 * 1024;

/** True when a `tcpdump` binary is on the PATH. */
export function haveTcpdump(): boolean {
  return spawnSync('tcpdump', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** A running `tcpdump -w`, started and ready (it has said "listening on"). */
export interface Tcpdump {
  /** Stops it with SIGINT (so it flushes the file), waits for it to exit, returns what it said on stderr. */
  stop(): Promise<string>;
}

/**
 * Starts `tcpdump -i IFACE -U -n --immediate-mode --time-stamp-precision=nano -w FILE FILTER` and resolves
 * once it is capturing (immediate mode, or a packet could wait in the ring past our stop(); a 32 MiB buffer,
 * because in immediate mode each slot of the ring takes 128 KiB on `lo` and tcpdump's default 2 MiB holds
 * only 16 packets). Rejects with its stderr if it exits or does not get ready within `readyTimeoutMs`.
 */
export function startTcpdump(iface: string, filter: string, file: string, readyTimeoutMs = 5000): Promise<Tcpdump> {
  const child: ChildProcess = spawn(
    'tcpdump',
    [
      '-i',
      iface,
      '-U',
      '-n',
      '--immediate-mode',
      '-B',
      String(BUFFER_KIB),
      '--time-stamp-precision=nano',
      '-w',
      file,
      filter,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise<Tcpdump>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tcpdump did not start listening within ${readyTimeoutMs} ms: ${stderr}`));
    }, readyTimeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`tcpdump exited early (${code}): ${stderr}`));
    });
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (chunk: string) => {
      stderr += chunk;
      if (stderr.includes('listening on')) {
        clearTimeout(timer);
        resolve({
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
            await exited;
            return stderr;
          },
        });
      }
    });
  });
}

import dgram from 'node:dgram';
import { spawn, spawnSync } from 'node:child_process';

/** A UDP port that was free a moment ago (bound then released). */
export async function freeUdpPort(): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', resolve));
  const { port } = s.address();
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** Collects datagrams arriving on a loopback UDP socket. */
export async function udpCollector(port = 0): Promise<{
  socket: dgram.Socket;
  port: number;
  messages: { data: Buffer; port: number }[];
  close: () => Promise<void>;
}> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const messages: { data: Buffer; port: number }[] = [];
  socket.on('message', (data, rinfo) => messages.push({ data, port: rinfo.port }));
  await new Promise<void>((resolve) => socket.bind(port, '127.0.0.1', resolve));
  return {
    socket,
    port: socket.address().port,
    messages,
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Polls `check` every 10 ms until it returns true or `timeoutMs` passes. */
export async function until(check: () => boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export const PYTHON = '/usr/bin/python3';

/** True when Debian's python3 can import pyepics (and so load libca). */
export function hasPyepics(): boolean {
  const r = spawnSync(PYTHON, ['-c', 'import epics, epics.ca; epics.ca.find_libca()'], { stdio: 'ignore' });
  return r.status === 0;
}

/** Runs a python script and resolves with its stdout, stderr and exit code. */
export function runPython(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20000,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  return new Promise((resolve) => {
    const p = spawn(PYTHON, args, { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ stdout, stderr, code });
    });
  });
}

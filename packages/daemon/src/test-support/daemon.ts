import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import pino from 'pino';
import WebSocket from 'ws';
import { parseCommandLine } from '../cli.js';
import { type RunningDaemon, type StartOptions, startDaemon } from '../server.js';

/** A free TCP port on loopback (closed again; good enough for a test). */
export async function freeTcpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
  });
}

/** A free UDP port on loopback. */
export async function freeUdpPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket('udp4');
    s.once('error', reject);
    s.bind(0, '127.0.0.1', () => {
      const port = s.address().port;
      s.close(() => resolve(port));
    });
  });
}

/** Starts a daemon in-process from command-line arguments, silent, on a free port. */
export async function startTestDaemon(args: string[], options: StartOptions = {}): Promise<RunningDaemon> {
  const port = await freeTcpPort();
  // The decoding thread at the tests' own priority unless a test asks (--decoder-nice): a nicer one would wait
  // behind the other test files' processes on a loaded machine, and their timeouts are not what is tested.
  const config = parseCommandLine([...args, '--listen', `127.0.0.1:${port}`], { CA_SHARKD_DECODER_NICE: '0' });
  return startDaemon(config, pino({ level: 'silent' }), { tickMs: 20, snapshotMs: 100, ...options });
}

/** A frame from /ws, parsed. */
export type Frame = { type: string } & Record<string, unknown>;

/** A real `ws` client on a daemon that keeps every frame and can wait for one. */
export class TestClient {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<TestClient> {
    const ws = new WebSocket(url.replace(/^http/, 'ws') + '/ws', { headers });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
      ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
    });
    return client;
  }

  /** Every record received so far. */
  records(): Record<string, unknown>[] {
    return this.frames.filter((f) => f.type === 'records').flatMap((f) => f.records as Record<string, unknown>[]);
  }

  /**
   * Waits until `pred` holds over the frames received (checked on every frame). The default bound is for a
   * daemon that decodes slowly on a loaded 2-core machine (it was 10 s), within the 60 s that the tests
   * waiting so are given: what is waited for is checked as before, only given longer to come.
   */
  async until<T>(what: string, pred: () => T | undefined | false, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = pred();
      if (value !== undefined && value !== false) return value;
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`timed out waiting for ${what}; frames: ${this.frames.map((f) => f.type).join(',')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  send(message: object): void {
    this.ws.send(JSON.stringify(message));
  }

  close(): void {
    this.ws.terminate();
  }
}

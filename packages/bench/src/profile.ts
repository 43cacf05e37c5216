/**
 * CPU profiles of a running node process and its worker threads over a chosen window, through the V8
 * inspector (the process runs with `--inspect=127.0.0.1:0`). `node --cpu-prof` is no use for the daemon's
 * decoding worker: that one is terminated at shutdown and never writes its profile.
 */
import WebSocket from 'ws';
import type { CpuProfile } from './load-plan.js';

/** The inspector's WebSocket address from node's `Debugger listening on ws://...` line, or undefined. */
export function inspectorUrl(stderr: string): string | undefined {
  return /Debugger listening on (ws:\/\/\S+)/.exec(stderr)?.[1];
}

interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
}

/** One profiled thread. */
interface Target {
  /** 'main thread' or the worker's title. */
  name: string;
  send: (method: string, params?: Record<string, unknown>) => Promise<Record<string, unknown>>;
}

/** A profiling session: every thread of the process is sampled from start until {@link Profiling.stop}. */
export interface Profiling {
  /** Stops sampling and returns each thread's profile by name. */
  stop(): Promise<Map<string, CpuProfile>>;
  close(): void;
}

/** Sampling interval, µs. */
const SAMPLING_US = 500;

/** Connects to the inspector at `url` and starts profiling the main thread and every worker thread. */
export async function startProfiling(url: string, timeoutMs = 10_000): Promise<Profiling> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  let nextId = 1;
  const waiting = new Map<number, { resolve: (r: Record<string, unknown>) => void; reject: (e: Error) => void }>();
  const workerWaiting = new Map<string, Map<number, (m: CdpMessage) => void>>();
  const targets: Target[] = [];
  const attached: Promise<void>[] = [];

  const call = (method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        waiting.delete(id);
        reject(new Error(`inspector: no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      waiting.set(id, {
        resolve: (r) => {
          clearTimeout(timer);
          resolve(r);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      socket.send(JSON.stringify({ id, method, params }));
    });

  const workerTarget = (sessionId: string, name: string): Target => {
    const pending = new Map<number, (m: CdpMessage) => void>();
    workerWaiting.set(sessionId, pending);
    let id = 1;
    return {
      name,
      send: (method, params = {}) =>
        new Promise((resolve, reject) => {
          const own = id++;
          const timer = setTimeout(() => {
            pending.delete(own);
            reject(new Error(`inspector: ${name} did not answer ${method} within ${timeoutMs} ms`));
          }, timeoutMs);
          pending.set(own, (m) => {
            clearTimeout(timer);
            if (m.error !== undefined) reject(new Error(m.error.message));
            else resolve(m.result ?? {});
          });
          void call('NodeWorker.sendMessageToWorker', {
            sessionId,
            message: JSON.stringify({ id: own, method, params }),
          }).catch(reject);
        }),
    };
  };

  const begin = async (t: Target): Promise<void> => {
    await t.send('Profiler.enable');
    await t.send('Profiler.setSamplingInterval', { interval: SAMPLING_US });
    await t.send('Profiler.start');
  };

  socket.on('message', (data) => {
    const m = JSON.parse(String(data)) as CdpMessage;
    if (m.id !== undefined) {
      const w = waiting.get(m.id);
      waiting.delete(m.id);
      if (m.error !== undefined) w?.reject(new Error(m.error.message));
      else w?.resolve(m.result ?? {});
      return;
    }
    const p = m.params ?? {};
    if (m.method === 'NodeWorker.attachedToWorker') {
      const info = (p.workerInfo ?? {}) as { title?: string; workerId?: string };
      const t = workerTarget(String(p.sessionId), `worker ${info.workerId ?? '?'} (${info.title ?? ''})`);
      targets.push(t);
      attached.push(begin(t).catch(() => undefined));
    } else if (m.method === 'NodeWorker.receivedMessageFromWorker') {
      const inner = JSON.parse(String(p.message)) as CdpMessage;
      if (inner.id !== undefined) {
        const pending = workerWaiting.get(String(p.sessionId));
        pending?.get(inner.id)?.(inner);
        pending?.delete(inner.id);
      }
    }
  });

  const main: Target = { name: 'main thread', send: call };
  targets.push(main);
  await begin(main);
  await call('NodeWorker.enable', { waitForDebuggerOnStart: false });
  // Workers attach asynchronously after enable: give them a moment, then wait for their profilers to start.
  await new Promise((r) => setTimeout(r, 500));
  await Promise.all(attached);

  return {
    async stop() {
      const out = new Map<string, CpuProfile>();
      for (const t of targets) {
        try {
          const r = await t.send('Profiler.stop');
          out.set(t.name, r.profile as CpuProfile);
        } catch {
          // A thread that went away has no profile to give.
        }
      }
      return out;
    },
    close() {
      socket.terminate();
    },
  };
}

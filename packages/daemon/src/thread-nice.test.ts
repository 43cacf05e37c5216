import { existsSync, readdirSync } from 'node:fs';
import { getPriority } from 'node:os';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunningDaemon } from './server.js';
import { startTestDaemon } from './test-support/daemon.js';
import { withRemoteEngine } from './test-support/remote-engine.js';
import { currentThreadId, lowerThreadPriority, readThreadNice } from './thread-nice.js';

const linux = process.platform === 'linux' && existsSync('/proc/thread-self');

/** Every thread of this process and its nice value, as the kernel shows them. */
function threadNices(): Map<number, number> {
  const nices = new Map<number, number>();
  for (const entry of readdirSync(`/proc/${process.pid}/task`)) {
    const tid = Number(entry);
    try {
      nices.set(tid, readThreadNice(process.pid, tid));
    } catch {
      // A thread that ended between the listing and the read.
    }
  }
  return nices;
}

let daemon: RunningDaemon | undefined;
afterEach(async () => {
  await daemon?.shutdown('test done');
  daemon = undefined;
});

describe.runIf(linux)('the decoding thread’s nice value (Linux)', { timeout: 30_000 }, () => {
  it('reads a thread’s nice value from /proc as the kernel gives it', () => {
    const tid = currentThreadId();
    expect(readThreadNice(process.pid, tid)).toBe(getPriority(tid));
  });

  it('lowers the priority of the decoding worker’s thread only, and reports it', async () => {
    const main = getPriority(currentThreadId());
    // Above this thread's own, so the change is visible whatever nice the test run was started at.
    const nice = Math.min(19, main + 7);
    const before = threadNices();
    await withRemoteEngine('file', { decoderNice: nice }, async (engine) => {
      // The worker sets its nice before anything else; its first stats message said it is ready.
      const after = threadNices();
      const lowered = [...after].filter(([, n]) => n === nice).map(([tid]) => tid);
      expect(lowered).toHaveLength(1);
      expect(before.has(lowered[0])).toBe(false);
      // The threads that were there (this one, libuv's, V8's) and any other new one kept their priority.
      for (const [tid, n] of after) {
        if (tid !== lowered[0]) expect(n, `thread ${tid}`).toBe(before.get(tid) ?? main);
      }
      expect(engine.stats().decoderNice).toBe(nice);
    });
  });

  it('serves the decoding thread’s nice value in /api/stats', async () => {
    daemon = await startTestDaemon(['--stdin', '--decoder-nice', '9'], { input: new PassThrough() });
    const stats = (await (await fetch(`${daemon.url}/api/stats`)).json()) as { decoderNice?: unknown };
    expect(stats.decoderNice).toBe(Math.max(9, getPriority(currentThreadId())));
  });
});

describe('the fallback where threads have no priority of their own', () => {
  it('leaves the thread as it is, and says why, off Linux', () => {
    const before = getPriority(0);
    const outcome = lowerThreadPriority(12, { platform: 'darwin' });
    expect(outcome).toEqual({ reason: expect.stringMatching(/Linux-only \(this is darwin\)/) as unknown });
    expect(getPriority(0)).toBe(before);
  });

  it('leaves the thread as it is, and says why, without /proc/thread-self', () => {
    const before = getPriority(0);
    const outcome = lowerThreadPriority(12, { platform: 'linux', threadSelf: '/nonexistent/thread-self' });
    expect(outcome.tid).toBeUndefined();
    expect(outcome).toMatchObject({ reason: expect.stringMatching(/cannot name this thread/) as unknown });
    expect(getPriority(0)).toBe(before);
  });
});

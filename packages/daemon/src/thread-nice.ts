/**
 * The decoding worker's CPU priority (`--decoder-nice`). On a box whose cores are busy, a decoder that
 * cannot keep up sheds frames anyway (counted and alerted, see decoder-backlog.ts): it is the one to wait
 * for a core, not the thread answering HTTP and WebSocket and capturing. Linux keeps a nice value per
 * thread (setpriority(PRIO_PROCESS, tid) moves that thread only), so the worker lowers its own priority
 * once, at start, and nothing else in the daemon moves. Nice weighs threads within one scheduling group
 * (an autogroup, i.e. a session, or a cgroup): processes of other groups, such as a browser started from
 * another session, share the CPU with the daemon's group as before (docs/daemon.md, "CPU priority").
 *
 * Raising nice needs no privilege, lowering it does: applied once at the worker's start, it holds after
 * the daemon drops root (`--user`), and a thread already nicer than asked (`nice -n 15 ca-sharkd`) is left
 * as it is rather than given back priority the rest of the daemon does not have.
 */
import { readFileSync, readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Default nice of the decoding worker: the daemon's own. Measured in docs/performance.md ("Session 10:
 * decoder priority and flood start"): at nice 10 `/api/health` answered a flood nine times faster, but the
 * page got no core sooner (it is in another scheduling group), fewer messages were decoded under
 * overload, and a decoder sharing its group with busy processes (a sensor started beside an IOC and its
 * clients) fell far behind. An option for a host whose API must answer first.
 */
export const DEFAULT_DECODER_NICE = 0;
/** Linux's nicest value: the thread runs when nothing else wants the core. */
export const MAX_NICE = 19;

/** What the worker's thread runs at, once {@link lowerThreadPriority} has been called. */
export type ThreadNice =
  /** `nice`: the thread's nice value now, read back (the one asked for, or higher if it already was). */
  | { readonly tid: number; readonly nice: number }
  /** No per-thread nice on this system (not Linux, no /proc/thread-self, refused): the thread runs as it did. */
  | { readonly tid?: undefined; readonly reason: string };

/** What {@link lowerThreadPriority} looks at (tests replace the platform and the /proc link). */
export interface ThreadNiceEnvironment {
  /** Default process.platform. */
  platform?: NodeJS.Platform;
  /** The link naming the calling thread, `PID/task/TID` (default /proc/thread-self). */
  threadSelf?: string;
}

/** The kernel's id of the calling thread (Linux), from /proc/thread-self; throws where there is none. */
export function currentThreadId(threadSelf = '/proc/thread-self'): number {
  const target = readlinkSync(threadSelf);
  const tid = Number(target.slice(target.lastIndexOf('/') + 1));
  if (!Number.isInteger(tid) || tid <= 0) throw new Error(`${threadSelf} points at ${JSON.stringify(target)}`);
  return tid;
}

/**
 * Makes the calling thread's nice value at least `nice` (0..{@link MAX_NICE}); only this thread changes.
 * Never throws: where the system has no per-thread priority the outcome says why.
 */
export function lowerThreadPriority(nice: number, env: ThreadNiceEnvironment = {}): ThreadNice {
  const platform = env.platform ?? process.platform;
  if (platform !== 'linux') return { reason: `per-thread priority is Linux-only (this is ${platform})` };
  let tid: number;
  try {
    tid = currentThreadId(env.threadSelf);
  } catch (err) {
    return { reason: `cannot name this thread: ${(err as Error).message}` };
  }
  try {
    const current = getPriority(tid);
    if (current < nice) setPriority(tid, nice);
    return { tid, nice: getPriority(tid) };
  } catch (err) {
    return { reason: `setpriority refused: ${(err as Error).message}` };
  }
}

/**
 * The nice value of thread `tid` of process `pid` as the kernel shows it (field 19 of
 * /proc/PID/task/TID/stat), for checks from outside the thread.
 */
export function readThreadNice(pid: number, tid: number, proc = '/proc'): number {
  const stat = readFileSync(`${proc}/${pid}/task/${tid}/stat`, 'utf8');
  // The command name (field 2, in parentheses) may hold spaces: count fields after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(fields[STAT_NICE - 3]);
}

/** 1-based index of the nice value in /proc/PID/task/TID/stat (proc(5)). */
const STAT_NICE = 19;

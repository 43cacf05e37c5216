/** Test doubles for the WebSocket client: a scriptable socket, a manual clock and Live rows. */
import type { SocketLike, Timers } from '../live-client.js';
import type { LiveRecord } from '../contract.js';

/** A socket the test opens, feeds and drops by hand; it records what the client sends. */
export class FakeSocket implements SocketLike {
  readyState = 0;
  sent: unknown[] = [];
  closed = false;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(): void {
    this.closed = true;
    this.readyState = 3;
  }
  open(): void {
    this.readyState = 1;
    this.onopen?.({});
  }
  drop(): void {
    this.readyState = 3;
    this.onclose?.({});
  }
  receive(msg: unknown): void {
    this.onmessage?.({ data: JSON.stringify(msg) });
  }
}

/** Manual clock: timers fire only when the test advances time. */
export class ManualTimers implements Timers {
  t = 0;
  private tasks: { at: number; fn: () => void; id: number }[] = [];
  private next = 1;
  setTimeout(fn: () => void, ms: number): unknown {
    const id = this.next++;
    this.tasks.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown): void {
    this.tasks = this.tasks.filter((x) => x.id !== h);
  }
  now(): number {
    return this.t;
  }
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.tasks.sort((a, b) => a.at - b.at);
      const task = this.tasks[0];
      if (!task || task.at > end) break;
      this.tasks.shift();
      this.t = task.at;
      task.fn();
    }
    this.t = end;
  }
}

/** A Live row numbered `i` (id `i`, capture time 1000 + i) with the fields a test sets. */
export function liveRow(i: number, fields: Partial<LiveRecord> = {}): LiveRecord {
  return {
    id: i,
    frame: i,
    t: 1000 + i,
    src: '127.0.0.1:5064',
    dst: '127.0.0.2:4000',
    proto: 'tcp',
    cmd: 'EventAddResponse',
    pv: `sim:pv${i}`,
    summary: String(i),
    latency: null,
    status: null,
    error: false,
    size: 16,
    ...fields,
  };
}

/** Options of a client on fake sockets and a manual clock; the sockets it opens are pushed to `sockets`. */
export function fakeConnection(sockets: FakeSocket[], timers: ManualTimers) {
  return {
    timers,
    random: () => 0,
    createSocket: () => {
      const s = new FakeSocket();
      sockets.push(s);
      return s;
    },
  };
}

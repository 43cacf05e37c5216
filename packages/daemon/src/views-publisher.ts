/**
 * The views the decoding worker publishes on a cadence (see engine-worker.ts): the `snapshot` frame and the
 * API tables, each serialised once to the JSON text every client is sent as it is. Nothing is recomputed
 * while the engine's {@link Engine.generation} stays the same: an idle or ended capture costs a stats line.
 */
import { type Steps, runSteps } from '@ca-shark/analysis';
import type { Engine } from './engine.js';
import type { TableName, TableText, ViewText } from './model.js';
import { timedSteps } from './slices.js';

/**
 * A table in a publication: new text (its UTF-8 bytes, see {@link jsonBytesSteps}), or only a newer time when
 * it was found unchanged.
 */
export type PublishedTable = TableText | { time: number };

/** One publication of views (worker → main thread). */
export interface PublishedViews {
  /**
   * The snapshot frame; its text from `bodyStart` on is everything after its stats (the main thread puts
   * its own, fresher stats in front: see RemoteEngine.snapshotText).
   */
  snapshot: ViewText & { bodyStart: number };
  /** The tables asked for; absent tables are not part of this publication. */
  tables: Partial<Record<TableName, PublishedTable>>;
  /** Worker time this publication took (ms). */
  costMs: number;
}

/** Rows serialised between two pauses of a table's JSON. */
const JSON_ROWS_PER_STEP = 256;

/**
 * The UTF-8 bytes of `JSON.stringify(rows)`, a few hundred rows at a time: a table of 10,000 channels is 4 MB
 * of JSON, too much for one slice. Each step's text is encoded at once and dies young: the whole text never
 * exists as one string on the worker's heap, and its bytes (an ArrayBuffer of their own, outside the heap)
 * cross to the main thread by transfer, not by a copy into the main thread's heap. Built as a string and
 * posted, the 1 GB capture's channel table (3.1 MB) was about 10 MB of the daemon's peak RSS at the end of
 * input: its parts and the joined text promoted on the worker's heap, the clone's buffer and the main
 * thread's copy (docs/performance.md, "Session 20: the daemon's peak RSS flat to 1 GB").
 */
export function* jsonBytesSteps(rows: readonly unknown[]): Steps<Uint8Array> {
  const parts: Buffer[] = [];
  let length = 2;
  for (let i = 0; i < rows.length; i += JSON_ROWS_PER_STEP) {
    const text = JSON.stringify(rows.slice(i, i + JSON_ROWS_PER_STEP));
    // Without the brackets; a comma before every part but the first.
    const part = Buffer.from(i === 0 ? text.slice(1, -1) : `,${text.slice(1, -1)}`);
    parts.push(part);
    length += part.length;
    yield;
  }
  // Not Buffer.concat: a short result would be a view into node's shared pool, which must not be transferred.
  const bytes = new Uint8Array(length);
  bytes[0] = OPEN_BRACKET;
  let at = 1;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  bytes[at] = CLOSE_BRACKET;
  return bytes;
}

const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;

/** The buffers of a publication's table texts, to transfer with it (each table's bytes own theirs). */
export function tableBuffers(views: PublishedViews): ArrayBuffer[] {
  const buffers: ArrayBuffer[] = [];
  for (const table of Object.values(views.tables)) {
    if ('text' in table && typeof table.text !== 'string') buffers.push(table.text.buffer as ArrayBuffer);
  }
  return buffers;
}

/** Builds {@link PublishedViews} from an {@link Engine}, recomputing only what its generation says changed. */
export class ViewPublisher {
  private bodyGeneration = -1;
  /** The snapshot's JSON text without its braces, type, time and stats. */
  private bodyText = '';
  private readonly tableGenerations = new Map<TableName, number>();

  constructor(
    private readonly engine: Engine,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /**
   * Forgets what it published: the next publication has new text for everything. For a publication dropped
   * before its end (its text for the parts it finished was never sent, but they count as published).
   */
  forget(): void {
    this.bodyGeneration = -1;
    this.tableGenerations.clear();
  }

  /** The snapshot, and the tables named (new text only for those that may have changed since), at once. */
  publish(tables: Iterable<TableName>): PublishedViews {
    return runSteps(this.publishSteps(tables));
  }

  /**
   * {@link ViewPublisher.publish} in steps (see slices.ts): the decoding worker spreads a costly
   * publication over slices and decodes in between. The views show the state as of the start, or a few
   * slices later for parts computed later; `costMs` is the time of its own steps, pauses excluded.
   */
  *publishSteps(tables: Iterable<TableName>): Steps<PublishedViews> {
    const [views, costMs] = yield* timedSteps(this.viewsSteps([...tables]), this.clock);
    return { ...views, costMs };
  }

  private *viewsSteps(tables: readonly TableName[]): Steps<Omit<PublishedViews, 'costMs'>> {
    const e = this.engine;
    const generation = e.generation;
    const time = e.wallTime();
    const out: Partial<Record<TableName, PublishedTable>> = {};
    // The snapshot and the tables read the same state: its costly aggregations are computed once for all.
    yield* e.sharedSteps(
      function* (this: ViewPublisher): Steps<void> {
        if (generation !== this.bodyGeneration) {
          this.bodyText = JSON.stringify(yield* e.snapshotBodySteps()).slice(1, -1);
          this.bodyGeneration = generation;
        }
        for (const name of tables) {
          if (this.tableGenerations.get(name) === generation) {
            out[name] = { time };
          } else {
            out[name] = { text: yield* jsonBytesSteps(yield* e.tableSteps(name)), time };
            this.tableGenerations.set(name, generation);
          }
        }
      }.call(this),
    );
    // Stats move without records (capture and WebSocket counters): always fresh, and small.
    const head = `{"type":"snapshot","time":${time},"stats":${JSON.stringify(e.stats())},`;
    return { snapshot: { text: `${head}${this.bodyText}}`, time, bodyStart: head.length }, tables: out };
  }
}

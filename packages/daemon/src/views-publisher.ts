/**
 * The views the decoding worker publishes on a cadence (see engine-worker.ts): the `snapshot` frame and the
 * API tables, each serialised once to the JSON text every client is sent as it is. Nothing is recomputed
 * while the engine's {@link Engine.generation} stays the same: an idle or ended capture costs a stats line.
 */
import { type Steps, runSteps } from '@ca-shark/analysis';
import type { Engine } from './engine.js';
import type { TableName, ViewText } from './model.js';
import { timedSteps } from './slices.js';

/** A table in a publication: new text, or only a newer time when it was found unchanged. */
export type PublishedTable = ViewText | { time: number };

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
 * `JSON.stringify(rows)`, a few hundred rows at a time: a table of 10,000 channels is 4 MB of JSON, too
 * much for one slice. The text is the same.
 */
export function* jsonSteps(rows: readonly unknown[]): Steps<string> {
  const parts: string[] = [];
  for (let i = 0; i < rows.length; i += JSON_ROWS_PER_STEP) {
    parts.push(JSON.stringify(rows.slice(i, i + JSON_ROWS_PER_STEP)).slice(1, -1));
    yield;
  }
  return `[${parts.join(',')}]`;
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
            out[name] = { text: yield* jsonSteps(yield* e.tableSteps(name)), time };
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

/**
 * The views the decoding worker publishes on a cadence (see engine-worker.ts): the `snapshot` frame and the
 * API tables, each serialised once to the JSON text every client is sent as it is. Nothing is recomputed
 * while the engine's {@link Engine.generation} stays the same: an idle or ended capture costs a stats line.
 */
import type { Engine } from './engine.js';
import type { TableName, ViewText } from './model.js';

/** A table in a publication: new text, or only a newer time when it was found unchanged. */
export type PublishedTable = ViewText | { time: number };

/** One publication of views (worker → main thread). */
export interface PublishedViews {
  snapshot: ViewText;
  /** The tables asked for; absent tables are not part of this publication. */
  tables: Partial<Record<TableName, PublishedTable>>;
  /** Worker time this publication took (ms). */
  costMs: number;
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

  /** The snapshot, and the tables named (new text only for those that may have changed since). */
  publish(tables: Iterable<TableName>): PublishedViews {
    const start = this.clock();
    const e = this.engine;
    const generation = e.generation;
    const time = e.wallTime();
    const out: Partial<Record<TableName, PublishedTable>> = {};
    // The snapshot and the tables read the same state: its costly aggregations are computed once for all.
    const text = e.shared(() => {
      if (generation !== this.bodyGeneration) {
        this.bodyText = JSON.stringify(e.snapshotBody()).slice(1, -1);
        this.bodyGeneration = generation;
      }
      for (const name of tables) {
        if (this.tableGenerations.get(name) === generation) {
          out[name] = { time };
        } else {
          out[name] = { text: JSON.stringify(e.table(name)), time };
          this.tableGenerations.set(name, generation);
        }
      }
      // Stats move without records (capture and WebSocket counters): always fresh, and small.
      return `{"type":"snapshot","time":${time},"stats":${JSON.stringify(e.stats())},${this.bodyText}}`;
    });
    return { snapshot: { text, time }, tables: out, costMs: this.clock() - start };
  }
}

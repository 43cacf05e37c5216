/**
 * `GET /api/pcap?<filter>&since=&until=`: a pcapng file of exactly the packets that carried the CA messages
 * matching the WebSocket filter (pv, host, command, errors) in a capture-time range, from the decoding
 * worker's packet ring (packet-ring.ts, pcap-export.ts). The file is streamed chunk by chunk: the worker
 * makes the next chunk only when the HTTP response has taken the last, so a slow download holds one chunk,
 * never the file, and never keeps the decoder busy.
 */
import { Readable } from 'node:stream';
import { FilterError } from '@ca-shark/analysis/filter';
import type { FastifyPluginAsync } from 'fastify';
import type { DaemonModel } from './model.js';
import type { PcapRequest } from './pcap-export.js';
import type { SubscriptionFilter } from './plugins/ws.js';
import { canonicalSubscription } from './subscriptions.js';

/** The pcapng media type (IANA registration application/vnd.tcpdump.pcapng does not exist; Wireshark's). */
export const PCAPNG_MEDIA_TYPE = 'application/x-pcapng';

/** A model that can export packets ({@link DaemonModel} with a packet ring). */
export interface PcapModel extends DaemonModel {
  /** The chunks of the export, or undefined when the daemon keeps no packets. */
  pcap?(request: PcapRequest): AsyncIterable<Uint8Array> | undefined;
  /** Why the daemon keeps no packets (the 404's error), when it keeps none. */
  readonly noPackets?: string | undefined;
}

/** Query of `/api/pcap`: criteria may repeat (`pv=a&pv=b`) or hold comma lists for commands. */
interface PcapQuery {
  pv?: string | string[];
  host?: string | string[];
  command?: string | string[];
  errors?: string;
  since?: number;
  until?: number;
}

const list = (v: string | string[] | undefined): string[] | undefined =>
  v === undefined ? undefined : (Array.isArray(v) ? v : [v]).filter((x) => x !== '');

const listSchema = { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' }, maxItems: 32 }] };
const errorSchema = { type: 'object', properties: { error: { type: 'string' } } } as const;

/** The request a query asks for; throws FilterError for a bad filter. */
export function pcapRequest(query: PcapQuery): PcapRequest {
  const filter: SubscriptionFilter = {};
  const pv = list(query.pv);
  const host = list(query.host);
  const command = list(query.command);
  if (pv !== undefined) filter.pv = pv;
  if (host !== undefined) filter.host = host;
  if (command !== undefined) filter.command = command;
  if (query.errors === '1' || query.errors === 'true') filter.errors = true;
  const canonical = canonicalSubscription(filter);
  if (query.since !== undefined && query.until !== undefined && query.since > query.until)
    throw new FilterError(`since (${query.since}) is after until (${query.until})`);
  return {
    ...(canonical !== undefined ? { filter: canonical } : {}),
    ...(query.since !== undefined ? { since: query.since } : {}),
    ...(query.until !== undefined ? { until: query.until } : {}),
  };
}

/** File name of a download: `ca-shark-20261206T053000Z.pcapng` (UTC, when it was asked for). */
export function pcapFileName(now = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `ca-shark-${stamp}.pcapng`;
}

/** Options of the pcap plugin. */
export interface PcapRouteOptions {
  model: PcapModel;
}

/** Registers `GET /api/pcap` (token, Origin and Host rules of the security plugin apply, as on all data routes). */
export const pcapPlugin: FastifyPluginAsync<PcapRouteOptions> = async (app, { model }) => {
  app.get<{ Querystring: PcapQuery }>(
    '/api/pcap',
    {
      schema: {
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            pv: listSchema,
            host: listSchema,
            command: listSchema,
            errors: { type: 'string', enum: ['0', '1', 'true', 'false'] },
            since: { type: 'number' },
            until: { type: 'number' },
            // The page's token travels in the query (the security plugin checks it).
            token: { type: 'string' },
          },
        },
        response: { 400: errorSchema, 404: errorSchema, 409: errorSchema, 503: errorSchema },
      },
    },
    async (request, reply) => {
      let wanted: PcapRequest;
      try {
        wanted = pcapRequest(request.query);
      } catch (err) {
        if (err instanceof FilterError) return reply.code(400).send({ error: err.message });
        throw err;
      }
      const chunks = model.pcap?.(wanted);
      if (chunks === undefined) {
        return reply.code(404).send({ error: model.noPackets ?? 'this daemon keeps no packets' });
      }
      // The first chunk is made before the status is sent: an export that cannot start is answered with its
      // error, 409 for a replayed file that changed since (frame-file.ts), 503 when the decoder is gone. One that fails later ends the
      // download without its last chunk, so the client sees a broken transfer, never a short file.
      const iterator = chunks[Symbol.asyncIterator]();
      let first: IteratorResult<Uint8Array>;
      try {
        first = await iterator.next();
      } catch (err) {
        request.log.warn({ err: (err as Error).message }, 'pcap export failed');
        const changed = err instanceof PcapExportError && err.changed;
        return reply.code(changed ? 409 : 503).send({ error: (err as Error).message });
      }
      return reply
        .type(PCAPNG_MEDIA_TYPE)
        .header('content-disposition', `attachment; filename="${pcapFileName()}"`)
        .header('cache-control', 'no-store')
        .send(
          Readable.from(
            resumed(first, iterator, (err) => request.log.warn({ err: err.message }, 'pcap export failed midway')),
            { objectMode: false, highWaterMark: 1 },
          ),
        );
    },
  );
};

/** The chunks of an export whose first step was taken already: that step's chunk, then the rest. */
async function* resumed(
  first: IteratorResult<Uint8Array>,
  iterator: AsyncIterator<Uint8Array>,
  failed: (err: Error) => void,
): AsyncGenerator<Uint8Array> {
  let finished = first.done === true;
  try {
    if (finished) return;
    yield first.value as Uint8Array;
    for (;;) {
      let step: IteratorResult<Uint8Array>;
      try {
        step = await iterator.next();
      } catch (err) {
        finished = true;
        failed(err as Error);
        throw err;
      }
      if (step.done === true) {
        finished = true;
        return;
      }
      yield step.value;
    }
  } finally {
    // The consumer stopped early (the client went away): the export stops too.
    if (!finished) await iterator.return?.();
  }
}

/** One chunk message of an export, as the worker sends it. */
export interface PcapChunkMessage {
  id: number;
  chunk?: Uint8Array;
  done: boolean;
  error?: string;
  /** The export failed because the replayed file changed since (frame-file.ts' ChangedFileError). */
  changed?: boolean;
}

/**
 * Why an export stopped, as the main thread learns it. `changed`: the replayed file changed since it was
 * decoded (answered 409: the user can act on it); otherwise the daemon could not make it (the decoding
 * worker is gone: 503, as for a report).
 */
export class PcapExportError extends Error {
  constructor(
    message: string,
    readonly changed: boolean,
  ) {
    super(message);
    this.name = 'PcapExportError';
  }
}

/**
 * The main thread's side of exports: turns the worker's chunk messages into async iterables, asking for
 * the next chunk only when the consumer wants it, and cancelling the export when the consumer stops.
 */
export class PcapStreams {
  private nextId = 1;
  private readonly waiting = new Map<number, (message: PcapChunkMessage) => void>();

  constructor(
    private readonly start: (id: number, request: PcapRequest) => void,
    private readonly pull: (id: number) => void,
    private readonly cancel: (id: number) => void,
  ) {}

  /** A chunk message from the worker. */
  chunk(message: PcapChunkMessage): void {
    const resolve = this.waiting.get(message.id);
    if (resolve === undefined) return;
    this.waiting.delete(message.id);
    resolve(message);
  }

  /** Every export in progress fails (the worker is gone). */
  failAll(reason: string): void {
    for (const [id, resolve] of [...this.waiting]) {
      this.waiting.delete(id);
      resolve({ id, done: true, error: reason });
    }
  }

  /** The chunks of a new export. */
  async *open(request: PcapRequest): AsyncGenerator<Uint8Array> {
    const id = this.nextId++;
    let finished = false;
    try {
      let next = this.expect(id);
      this.start(id, request);
      for (;;) {
        const message = await next;
        if (message.error !== undefined) {
          finished = true;
          throw new PcapExportError(message.error, message.changed === true);
        }
        if (message.done) {
          finished = true;
          return;
        }
        next = this.expect(id);
        // Ask for the following chunk while this one is written: one chunk in flight at most.
        this.pull(id);
        if (message.chunk !== undefined) yield message.chunk;
      }
    } finally {
      if (!finished) {
        this.waiting.delete(id);
        this.cancel(id);
      }
    }
  }

  private expect(id: number): Promise<PcapChunkMessage> {
    return new Promise((resolve) => this.waiting.set(id, resolve));
  }
}

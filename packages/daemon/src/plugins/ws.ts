import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { Hub } from '../hub.js';
import type { DaemonModel } from '../model.js';
import { parseClientMessage, parseSubscription } from '../request-validation.js';
import type { SubscriptionFilter } from '../requests.js';
import { fullRecord, recordGoneMessage } from './record.js';

export { ECHO_LIMIT, parseSubscription, quote } from '../request-validation.js';
export type { SubscriptionFilter } from '../requests.js';

/** Options of the WebSocket plugin. */
export interface WsOptions<R, F> {
  model: DaemonModel;
  hub: Hub<R, F>;
  /**
   * Checks a subscription and gives the hub's (canonical) form of it, undefined for everything; throws (with
   * a message for the client) when invalid. Records are matched elsewhere (the decoding worker), never here.
   */
  subscription: (filter: SubscriptionFilter) => F | undefined;
  version: string;
  /** Batching interval: at most one `records` frame per client per tick. */
  tickMs: number;
  /** Snapshot interval. */
  snapshotMs: number;
}

/** Longest error message sent to a client (messages from the filter compiler may quote patterns). */
export const ERROR_MESSAGE_LIMIT = 200;

function clip(message: string): string {
  return message.length <= ERROR_MESSAGE_LIMIT ? message : `${message.slice(0, ERROR_MESSAGE_LIMIT)}...`;
}

/**
 * `/ws` (needs @fastify/websocket registered on the app): hello, batched records (a sample when a client
 * cannot take them all), periodic snapshots, per-client subscriptions and rates, full records on request.
 */
export function wsPlugin<R, F>(): FastifyPluginAsync<WsOptions<R, F>> {
  return async (app, options) => {
    const { model, hub, subscription, version } = options;

    let building = false;
    const tick = setInterval(() => hub.tick(), options.tickMs);
    const snapshots = setInterval(() => {
      if (hub.stats().clients === 0 || building) return;
      building = true;
      Promise.resolve(model.snapshotText())
        .then((text) => hub.broadcast(text))
        .catch((err: unknown) => app.log.warn({ err: (err as Error).message }, 'snapshot failed'))
        .finally(() => (building = false));
    }, options.snapshotMs);
    tick.unref();
    snapshots.unref();
    app.addHook('onClose', async () => {
      clearInterval(tick);
      clearInterval(snapshots);
      hub.closeAll();
    });

    // Every frame to a client goes through the hub's bounded per-client state, replies included.
    const reply = (socket: WebSocket, message: object): void => hub.sendTo(socket, JSON.stringify(message));
    const fail = (socket: WebSocket, message: string): void => reply(socket, { type: 'error', message: clip(message) });

    app.get('/ws', { websocket: true }, (socket, request) => {
      const id = hub.add(socket);
      const log = request.log.child({ wsClient: id });
      log.info({ remote: request.ip }, 'WebSocket client connected');
      reply(socket, { type: 'hello', version, source: model.source() });
      // A new client should not wait a whole interval for its first picture of the state.
      Promise.resolve(model.snapshotText()).then(
        (text) => hub.snapshotTo(socket, text),
        (err: unknown) => log.warn({ err: (err as Error).message }, 'snapshot failed'),
      );

      socket.on('message', (data, isBinary) => {
        // A client closed for its backlog may still have requests in flight: they get no answer.
        if (socket.readyState !== socket.OPEN) return;
        if (isBinary) {
          fail(socket, 'send JSON text frames');
          return;
        }
        let message: unknown;
        try {
          message = JSON.parse(data.toString());
        } catch {
          fail(socket, 'not JSON');
          return;
        }
        try {
          // Checked against the definitions generated from requests.ts: no field reaches the code unchecked.
          const request = parseClientMessage(message);
          switch (request.type) {
            case 'subscribe': {
              const filter = parseSubscription(request.filter);
              const since = request.since ?? undefined;
              // Takes effect with the next batch the worker decodes; queued records of the old filter go.
              hub.subscribe(socket, subscription(filter));
              log.debug({ filter, since }, 'subscription changed');
              reply(socket, { type: 'subscribed', filter, ...(since !== undefined ? { since } : {}) });
              // Held records first: the worker scans them up to a seam, and live records follow from there.
              const wait = since !== undefined && model.requestHistory !== undefined && hub.awaitHistory(socket, since);
              if (wait)
                model.requestHistory?.({ request: wait.request, filter, since: since as number, limit: wait.limit });
              break;
            }
            case 'pause':
              hub.setPaused(socket, true);
              break;
            case 'resume':
              hub.setPaused(socket, false);
              break;
            case 'rate': {
              if (!Number.isFinite(request.recordsPerSecond)) throw new TypeError('recordsPerSecond must be finite');
              reply(socket, { type: 'rate', recordsPerSecond: hub.setRate(socket, request.recordsPerSecond) });
              break;
            }
            case 'record': {
              const id = request.id;
              // The text is the worker's JSON: embedded as it is, not parsed and serialised again.
              fullRecord(model, id).then(
                (text) =>
                  hub.sendTo(
                    socket,
                    text === undefined
                      ? JSON.stringify({ type: 'record', id, record: null, error: recordGoneMessage(id) })
                      : `{"type":"record","id":${id},"record":${text}}`,
                  ),
                (err: unknown) => fail(socket, `record ${id}: ${(err as Error).message}`),
              );
              break;
            }
          }
        } catch (err) {
          fail(socket, err instanceof Error ? err.message : String(err));
        }
      });
      socket.on('close', (code) => {
        const info = hub.clientInfo().find((c) => c.id === id);
        hub.remove(socket);
        // Only the hub's budget check forgets a client before its socket closes.
        if (info === undefined) log.warn({ code }, 'WebSocket client closed (1008): it left too many replies unread');
        else
          log.info(
            { code, matched: info.matched, sent: info.sent, sampledOut: info.sampledOut },
            'WebSocket client disconnected',
          );
      });
      socket.on('error', (err) => log.warn({ err }, 'WebSocket error'));
    });
  };
}

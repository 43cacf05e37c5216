import type { FastifyPluginAsync } from 'fastify';
import type { WebSocket } from 'ws';
import type { Hub } from '../hub.js';
import type { DaemonModel } from '../model.js';
import { fullRecord, recordGoneMessage } from './record.js';

/** The subscription a client sends: every given criterion must hold; `{}` means everything. */
export interface SubscriptionFilter {
  pv?: string[];
  host?: string[];
  command?: string[];
  errors?: boolean;
  /** Sensor name globs (a central daemon's records carry their sensor). */
  sensor?: string[];
}

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

/** Longest piece of client input an error reply quotes: enough to recognise it, too short to amplify it. */
export const ECHO_LIMIT = 32;
/** Longest error message sent to a client (messages from the filter compiler may quote patterns). */
export const ERROR_MESSAGE_LIMIT = 200;

/** JSON text of a client-supplied value, cut to {@link ECHO_LIMIT} characters. */
export function quote(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length <= ECHO_LIMIT ? text : `${text.slice(0, ECHO_LIMIT)}...`;
}

function clip(message: string): string {
  return message.length <= ERROR_MESSAGE_LIMIT ? message : `${message.slice(0, ERROR_MESSAGE_LIMIT)}...`;
}

function stringList(value: unknown, field: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
    throw new TypeError(`filter.${field} must be an array of strings`);
  }
  return value as string[];
}

/** Validates a client's subscription object; throws a TypeError with a message meant for the client. */
export function parseSubscription(value: unknown): SubscriptionFilter {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError('filter must be an object');
  const raw = value as Record<string, unknown>;
  const known = new Set(['pv', 'host', 'command', 'errors', 'sensor']);
  for (const key of Object.keys(raw)) if (!known.has(key)) throw new TypeError(`unknown filter field ${quote(key)}`);
  if (raw.errors !== undefined && typeof raw.errors !== 'boolean')
    throw new TypeError('filter.errors must be a boolean');
  const out: SubscriptionFilter = {};
  const pv = stringList(raw.pv, 'pv');
  const host = stringList(raw.host, 'host');
  const command = stringList(raw.command, 'command');
  if (pv !== undefined && pv.length > 0) out.pv = pv;
  if (host !== undefined && host.length > 0) out.host = host;
  if (command !== undefined && command.length > 0) out.command = command;
  if (raw.errors === true) out.errors = true;
  const sensor = stringList(raw.sensor, 'sensor');
  if (sensor !== undefined && sensor.length > 0) out.sensor = sensor;
  return out;
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
        const type = typeof message === 'object' && message !== null ? (message as { type?: unknown }).type : undefined;
        try {
          switch (type) {
            case 'subscribe': {
              const filter = parseSubscription((message as { filter?: unknown }).filter);
              // Takes effect with the next batch the worker decodes; queued records of the old filter go.
              hub.subscribe(socket, subscription(filter));
              log.debug({ filter }, 'subscription changed');
              reply(socket, { type: 'subscribed', filter });
              break;
            }
            case 'pause':
              hub.setPaused(socket, true);
              break;
            case 'resume':
              hub.setPaused(socket, false);
              break;
            case 'rate': {
              const perSecond = (message as { recordsPerSecond?: unknown }).recordsPerSecond;
              if (typeof perSecond !== 'number' || !Number.isFinite(perSecond))
                throw new TypeError('rate needs recordsPerSecond, a number');
              reply(socket, { type: 'rate', recordsPerSecond: hub.setRate(socket, perSecond) });
              break;
            }
            case 'record': {
              const id = (message as { id?: unknown }).id;
              if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1)
                throw new TypeError('record needs id, a positive integer');
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
            default:
              fail(socket, `unknown message type ${quote(type)}`);
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

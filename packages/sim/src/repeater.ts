/**
 * A CA repeater (the job of EPICS `caRepeater`): clients register with an empty datagram (or a
 * REPEATER_REGISTER), get a REPEATER_CONFIRM, and from then on receive every datagram that arrives on
 * the repeater port, beacons above all. Without one, libca notices a rebooted IOC only through its slow
 * disconnect governor; with one it sees the beacon anomaly and searches again at once.
 */
import dgram from 'node:dgram';
import { CA_REPEATER_PORT, Command, build, deframeDatagram, encodeMessage, ipv4FromString } from '@ca-shark/protocol';
import type { CaFrame } from '@ca-shark/protocol';
import { isLoopback } from './util.js';

/** Options of {@link startRepeater}. */
export interface RepeaterOptions {
  /** UDP port (default 5065, `EPICS_CA_REPEATER_PORT`; 0 = any free port). */
  port?: number;
  /** Address to bind (default '127.0.0.1'). */
  host?: string;
  /** Most clients kept; the oldest is dropped beyond it (default 1024). */
  maxClients?: number;
}

/** A running repeater. */
export interface RepeaterHandle {
  readonly port: number;
  /** Registered clients as 'address:port'. */
  clients(): string[];
  /** Datagrams forwarded to clients so far (one per client and datagram). */
  readonly forwarded: number;
  stop(): Promise<void>;
}

const DEFAULT_MAX_CLIENTS = 1024;

/** Starts a repeater and resolves once it listens. */
export async function startRepeater(options: RepeaterOptions = {}): Promise<RepeaterHandle> {
  const host = options.host ?? '127.0.0.1';
  const maxClients = options.maxClients ?? DEFAULT_MAX_CLIENTS;
  const socket = dgram.createSocket('udp4');
  const clients = new Map<string, { address: string; port: number }>();
  let forwarded = 0;

  const send = (bytes: Uint8Array, address: string, port: number): void => {
    socket.send(bytes, port, address);
  };

  /** Like caRepeater: a client whose port can be bound again is gone. */
  const verifyClients = async (): Promise<void> => {
    for (const [key, c] of [...clients]) {
      if (!isLoopback(c.address)) continue;
      const probe = dgram.createSocket('udp4');
      const free = await new Promise<boolean>((resolve) => {
        probe.once('error', () => resolve(false));
        probe.bind(c.port, c.address, () => resolve(true));
      });
      probe.close();
      if (free) clients.delete(key);
    }
  };

  const register = (address: string, port: number): void => {
    const key = `${address}:${port}`;
    if (!clients.has(key)) {
      if (clients.size >= maxClients) clients.delete(clients.keys().next().value as string);
      clients.set(key, { address, port });
    }
    send(build.repeaterConfirmResponse({ repeater_address: address }), address, port);
    // caRepeater then wakes the other clients with an all-zero VERSION (a no-op message).
    const noop = encodeMessage({ command: Command.VERSION });
    for (const [other, c] of clients) if (other !== key) send(noop, c.address, c.port);
    void verifyClients();
  };

  socket.on('message', (msg, rinfo) => {
    if (msg.length === 0) {
      register(rinfo.address, rinfo.port);
      return;
    }
    const parts: Uint8Array[] = [];
    let registration = false;
    deframeDatagram(
      msg,
      (frame: CaFrame) => {
        if (frame.command === Command.REPEATER_REGISTER) {
          registration = true;
        } else if (frame.command === Command.RSRV_IS_UP && frame.parameter2 === 0) {
          // Beacons with no address get the sender's, so clients know which server spoke.
          parts.push(
            build.beacon({
              version: frame.dataType,
              server_port: frame.dataCount,
              beacon_id: frame.parameter1,
              address: ipv4FromString(rinfo.address),
            }),
          );
        } else {
          parts.push(Uint8Array.from(frame.bytes));
        }
      },
      () => undefined,
    );
    if (registration) {
      register(rinfo.address, rinfo.port);
      return;
    }
    if (parts.length === 0) return;
    const out = Buffer.concat(parts);
    for (const c of clients.values()) {
      if (c.address === rinfo.address && c.port === rinfo.port) continue;
      send(out, c.address, c.port);
      forwarded += 1;
    }
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(options.port ?? CA_REPEATER_PORT, host, () => {
      socket.off('error', reject);
      resolve();
    });
  });
  return {
    port: socket.address().port,
    clients: () => [...clients.keys()],
    get forwarded() {
      return forwarded;
    },
    stop: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/**
 * The central's side of a record batch: turns the messages a sensor published back into the packet-layer
 * events the decoder takes (a UDP datagram, the next bytes of a TCP stream, a circuit's end), so that the
 * central's one decoder builds the same conversation state (circuits, channels, searches, latencies) and
 * the same records as a daemon capturing on the sensor's subnet, merged over every sensor.
 *
 * The IP and link headers of the sensor's packets do not cross: the central's records carry placeholders
 * there (link type RAW, TTL 0). Everything CA (endpoints, time, frame, message bytes) is the sensor's.
 */
import type { PacketEvent, PacketInfo, TcpFlow } from '@ca-shark/packet';
import { LINKTYPE, TCP_ACK } from '@ca-shark/packet';
import { type DecodedBatch, type WireMessage, decodeBatch } from './codec.js';

/** IPv4 protocol numbers and header sizes of the synthetic packets. */
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;
const IPV4_HEADER_BYTES = 20;
const TCP_HEADER_BYTES = 20;
const UDP_HEADER_BYTES = 8;
const ETHERTYPE_IPV4 = 0x0800;
/** TCP PSH flag (the packet layer exports ACK, SYN, FIN, RST only). */
const TCP_PSH = 0x08;

/** Circuits remembered per sensor beyond which the oldest is forgotten (its close was lost). */
const MAX_FLOWS_PER_SENSOR = 100_000;
/** Central flows whose sensor is remembered for the views (a closed channel still names its sensor). */
const FLOW_SENSORS_KEPT = 200_000;

/** Where replayed events go: the engine's decoder, with the sensor they came from. */
export interface ReplayTarget {
  feed(event: PacketEvent): void;
  /** Decodes `port` as a CA server port too. */
  addServerPort(port: number): void;
}

/** Hints of the sensor for the message being fed (its state may know what the central's does not yet). */
export interface SensorHints {
  sensor: string;
  pv: string | null;
  latency: number | undefined;
}

/**
 * Replays the batches of every sensor into one decoder. TCP flow ids are the central's own (unique across
 * sensors); a sensor's circuit maps to one flow until the sensor says it closed.
 */
export class Replayer {
  private readonly flows = new Map<string, Map<number, TcpFlow>>();
  private nextFlow = 1;
  private readonly serverPorts = new Set<number>();
  /** The sensor of each central flow id, the latest {@link FLOW_SENSORS_KEPT} (views outlive their circuits). */
  private readonly flowSensors = new Map<number, string>();
  /** The hints of the message being fed, read by the engine while the decoder emits its record. */
  readonly hints: SensorHints = { sensor: '', pv: null, latency: undefined };

  constructor(private readonly target: ReplayTarget) {}

  /** Decodes and feeds one batch; returns it (header and entries) for the caller's counters. */
  replay(sensor: string, bytes: Uint8Array): DecodedBatch {
    const batch = decodeBatch(bytes);
    // A sensor's datagrams reach the decoder only if it knows the sensor's server port.
    if (!this.serverPorts.has(batch.serverPort)) {
      this.serverPorts.add(batch.serverPort);
      this.target.addServerPort(batch.serverPort);
    }
    this.hints.sensor = sensor;
    const entries = batch.entries;
    for (let i = 0; i < entries.length; i++) {
      const e = entries[i];
      if (e.kind === 'close') {
        const flows = this.flows.get(sensor);
        const flow = flows?.get(e.circuit);
        if (flow === undefined || flows === undefined) continue;
        flows.delete(e.circuit);
        this.hints.pv = null;
        this.hints.latency = undefined;
        const packet = synthPacket(e.t, e.frame, flow.a.ip, flow.a.port, flow.b.ip, flow.b.port, 'tcp', 0, 0);
        this.target.feed({ type: 'tcp-close', packet, flow, reason: e.reason });
        continue;
      }
      this.hints.pv = e.pv;
      this.hints.latency = e.latency;
      if (e.kind === 'udp') {
        // The messages of one datagram cross as consecutive records of one frame: one datagram again.
        let j = i;
        let bytesOf = e.raw.length;
        let cut = e.cut;
        while (j + 1 < entries.length && sameDatagram(e, entries[j + 1])) {
          j += 1;
          const next = entries[j] as WireMessage;
          bytesOf += next.raw.length;
          cut ||= next.cut;
        }
        let payload = e.raw;
        if (j > i) {
          payload = new Uint8Array(bytesOf);
          let at = 0;
          for (let k = i; k <= j; k++) {
            const raw = (entries[k] as WireMessage).raw;
            payload.set(raw, at);
            at += raw.length;
          }
        }
        const packet = synthPacket(e.t, e.frame, e.src, e.sport, e.dst, e.dport, 'udp', payload.length, cut ? 1 : 0);
        this.target.feed({ type: 'udp', packet, payload });
        i = j;
        continue;
      }
      const flow = this.flow(sensor, e);
      const from = flow.a.ip === e.src && flow.a.port === e.sport ? 'a' : 'b';
      const packet = synthPacket(e.t, e.frame, e.src, e.sport, e.dst, e.dport, 'tcp', e.raw.length, 0);
      if (e.raw.length > 0) this.target.feed({ type: 'tcp-data', packet, flow, from, data: e.raw });
      // A message the sensor could not send whole: the rest is a gap, after which the stream resynchronises.
      if (e.cut && e.size > e.raw.length)
        this.target.feed({ type: 'tcp-gap', packet, flow, from, length: e.size - e.raw.length });
    }
    return batch;
  }

  /** The sensor whose circuit became central flow `flow`, while remembered. */
  sensorOf(flow: number): string | undefined {
    return this.flowSensors.get(flow);
  }

  /** Forgets a sensor's circuits (its run changed: the sensor restarted and numbers circuits anew). */
  resetSensor(sensor: string): void {
    this.flows.delete(sensor);
  }

  private flow(sensor: string, m: WireMessage): TcpFlow {
    let flows = this.flows.get(sensor);
    if (flows === undefined) {
      flows = new Map();
      this.flows.set(sensor, flows);
    }
    const circuit = m.circuit ?? 0;
    let flow = flows.get(circuit);
    if (flow === undefined) {
      // The client opened the circuit: with the sensor's role the decoder need not guess who is the server.
      const client =
        m.role === 'request'
          ? { ip: m.src, port: m.sport }
          : m.role === 'response'
            ? { ip: m.dst, port: m.dport }
            : null;
      flow = {
        id: this.nextFlow++,
        a: { ip: m.src, port: m.sport },
        b: { ip: m.dst, port: m.dport },
        ...(client === null ? {} : { opener: client.ip === m.src && client.port === m.sport ? 'a' : 'b' }),
      } as TcpFlow;
      flows.set(circuit, flow);
      this.flowSensors.set(flow.id, sensor);
      if (this.flowSensors.size > FLOW_SENSORS_KEPT)
        this.flowSensors.delete(this.flowSensors.keys().next().value as number);
      if (flows.size > MAX_FLOWS_PER_SENSOR) {
        const oldest = flows.keys().next().value as number;
        flows.delete(oldest);
      }
      const packet = synthPacket(m.t, m.frame, m.src, m.sport, m.dst, m.dport, 'tcp', 0, 0);
      this.target.feed({ type: 'tcp-open', packet, flow });
    }
    return flow;
  }
}

function sameDatagram(a: WireMessage, b: WireMessage | { kind: 'close' }): boolean {
  return (
    b.kind === 'udp' &&
    b.frame === a.frame &&
    b.t === a.t &&
    b.sport === a.sport &&
    b.dport === a.dport &&
    b.src === a.src &&
    b.dst === a.dst
  );
}

/** A packet as the packet layer would describe it, with the sensor's endpoints and time. */
function synthPacket(
  t: number,
  frame: number,
  src: string,
  sport: number,
  dst: string,
  dport: number,
  proto: 'tcp' | 'udp',
  payload: number,
  missing: number,
): PacketInfo {
  const transportBytes = proto === 'tcp' ? TCP_HEADER_BYTES : UDP_HEADER_BYTES;
  const caplen = IPV4_HEADER_BYTES + transportBytes + payload;
  return {
    frame,
    timestamp: t,
    caplen,
    origlen: caplen + missing,
    interfaceId: 0,
    link: { type: 'raw', linktype: LINKTYPE.RAW, ethertype: ETHERTYPE_IPV4 },
    ip: {
      version: 4,
      hl: IPV4_HEADER_BYTES,
      tos: 0,
      len: caplen,
      id: 0,
      flags: 0,
      offset: 0,
      ttl: 0,
      p: proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP,
      sum: 0,
      src,
      dst,
    },
    transport:
      proto === 'tcp'
        ? {
            protocol: 'tcp',
            sport,
            dport,
            seq: 0,
            ack: 0,
            off: TCP_HEADER_BYTES,
            flags: TCP_PSH | TCP_ACK,
            win: 0,
            sum: 0,
            urp: 0,
          }
        : { protocol: 'udp', sport, dport, ulen: UDP_HEADER_BYTES + payload, sum: 0 },
    src,
    dst,
  };
}

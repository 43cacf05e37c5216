import type { PacketInfo } from '@ca-shark/packet';
import { Command, decodeCommand, deframeDatagram, guessRole, ipv4ToString, oneSidedRole } from '@ca-shark/protocol';
import type { CaCommand, CaFault, CaFrame, Role, RoleCertainty } from '@ca-shark/protocol';
import type { ResolvedOptions } from './options.js';
import { makeRef } from './channels.js';
import { portGuess } from './emit.js';
import type { RecordEmitter } from './emit.js';
import type { SearchBook, ServerLearned } from './search.js';
import { capMap, keptKey } from './state.js';
import type { ConversationState } from './state.js';

/** UDP VERSIONs carry a flag and a sequence number instead of priority (§3.1). */
const UDP_DECODE = Object.freeze({ udp: true });

/** What the messages of one datagram share. */
interface Datagram {
  packet: PacketInfo;
  /** Role from the ports, null when they do not tell (then decided per message). */
  role: Role | null;
  certainty: RoleCertainty;
  /** "ip:port" of the datagram's ends, built once per datagram rather than per message. */
  src: string;
  dst: string;
  /** Sequence number of a search datagram (its leading VERSION), null when it has none. */
  sequence: number | null;
}

/**
 * CA over UDP: searches and their replies, beacons, repeater registrations. Which datagrams are CA is
 * decided by the ports (server and repeater ports, or a known client search socket); each datagram is
 * cut into its messages, which all get a record.
 */
export class UdpHandler {
  /** The datagram being deframed (the deframer's callbacks are allocated once, not per datagram). */
  private datagram: Datagram | null = null;

  private readonly onFrame = (frame: CaFrame): void => this.message(this.datagram as Datagram, frame);
  private readonly onFault = (fault: CaFault): void => this.fault(this.datagram as Datagram, fault);

  constructor(
    private readonly st: ConversationState,
    private readonly opts: ResolvedOptions,
    private readonly records: RecordEmitter,
    private readonly searches: SearchBook,
    private readonly serverLearned: ServerLearned,
  ) {}

  /** One UDP datagram of the capture. */
  datagramIn(packet: PacketInfo, payload: Uint8Array): void {
    const t = packet.transport;
    const sport = t.sport;
    const dport = t.dport;
    const rep = this.opts.repeaterPort;
    const ports = this.opts.serverPorts;
    const sS = ports.has(sport);
    const dS = ports.has(dport);
    // Repeater → client traffic comes from an ephemeral port to a client's search socket.
    const toClient = !sS && !dS && dport !== rep && sport !== rep && this.st.clients.has(`${packet.dst}:${dport}`);
    if (!sS && !dS && dport !== rep && sport !== rep && !toClient) return;
    this.st.statistics.udpDatagrams++;
    this.st.sweep(packet.timestamp);
    let role: Role | null = null;
    let certainty: RoleCertainty = 'guess';
    if (dS && !sS) {
      role = 'request';
      certainty = 'certain';
    } else if ((sS && !dS) || (sport === rep && dport !== rep)) {
      role = 'response';
      certainty = 'certain';
    }
    if (payload.length === 0) {
      if (dport === rep) this.emptyRegistration(packet);
      return;
    }
    const prev = this.datagram;
    this.datagram = {
      packet,
      role,
      certainty,
      src: `${packet.src}:${sport}`,
      dst: `${packet.dst}:${dport}`,
      sequence: null,
    };
    try {
      deframeDatagram(payload, this.onFrame, this.onFault, {
        maxPayloadSize: this.opts.maxMessageSize,
        truncated: packet.caplen < packet.origlen,
      });
    } finally {
      this.datagram = prev;
    }
  }

  /** libca registers with its repeater by an empty datagram (§3.5). */
  private emptyRegistration(packet: PacketInfo): void {
    const client = `${packet.src}:${packet.transport.sport}`;
    this.st.client(client, packet.timestamp).repeaterRegistrations++;
    const command: CaCommand = {
      name: 'RepeaterRegisterRequest',
      id: Command.REPEATER_REGISTER,
      client_address: null,
      empty: true,
    };
    const record = this.records.draft(packet, 'request', 'certain');
    record.client = client;
    this.records.sendFrameless(record, command);
  }

  private fault(d: Datagram, fault: CaFault): void {
    const record = d.role
      ? this.records.draft(d.packet, d.role, d.certainty)
      : this.records.draft(d.packet, portGuess(d.packet), 'guess');
    record.client = d.role === 'request' ? d.src : d.role === 'response' ? d.dst : undefined;
    record.server = d.role === 'request' ? d.dst : d.role === 'response' ? d.src : undefined;
    this.records.sendMalformed(record, fault);
  }

  private message(d: Datagram, frame: CaFrame): void {
    const packet = d.packet;
    let role: Role;
    let certainty: RoleCertainty;
    const dstAddr = d.dst;
    if (d.role) {
      role = d.role;
      certainty = d.certainty;
    } else {
      const one = oneSidedRole(frame);
      if (one) {
        role = one;
        certainty = packet.transport.dport === this.opts.repeaterPort ? 'certain' : 'inferred';
      } else if (this.st.clients.has(dstAddr)) {
        role = 'response';
        certainty = 'inferred';
      } else {
        role = guessRole(frame)?.role ?? portGuess(packet);
        certainty = 'guess';
      }
    }
    const isReq = role === 'request';
    const srcAddr = d.src;
    const record = this.records.draft(packet, role, certainty);
    let client: string | undefined = isReq ? srcAddr : dstAddr;
    let server: string | undefined = isReq ? dstAddr : srcAddr;
    const now = packet.timestamp;
    const st = this.st;
    // Decoded first so that a SEARCH's name is read once, for the record's command and the search book.
    const command = decodeCommand(frame, role, UDP_DECODE);

    switch (frame.command) {
      case Command.VERSION:
        // dt = 1: p1 is the datagram sequence number (4.11+); all-zero VERSIONs are repeater no-ops.
        if (frame.dataType === 1) {
          if (isReq) {
            const cl = st.client(srcAddr, now);
            cl.minor = frame.dataCount;
            cl.searchDatagrams++;
            cl.lastSequence = frame.parameter1;
            d.sequence = frame.parameter1;
            const key = keptKey(cl.address, frame.parameter1);
            st.setVersionRequest(key, makeRef(packet, 'VersionRequest'));
            capMap(st.versionRequests, this.opts.limits.maxSearches);
          } else {
            record.request = st.versionRequests.get(`${dstAddr}/${frame.parameter1}`);
          }
        }
        break;
      case Command.SEARCH:
      case Command.NOT_FOUND:
        server =
          this.searches.search(
            packet,
            frame,
            record,
            client,
            server,
            packet.src,
            d.sequence,
            command.name === 'SearchRequest' ? command.pv : undefined,
          ) ?? server;
        break;
      case Command.RSRV_IS_UP:
        server = this.beacon(packet, frame);
        client = undefined;
        break;
      case Command.REPEATER_REGISTER:
        st.client(srcAddr, now).repeaterRegistrations++;
        server = undefined;
        break;
      case Command.REPEATER_CONFIRM:
        server = undefined;
        break;
      default:
        break;
    }
    record.server = server;
    record.client = client;
    this.records.send(record, command, frame);
  }

  /** RSRV_IS_UP: books the beacon on its server; returns the server's TCP endpoint. */
  private beacon(packet: PacketInfo, frame: CaFrame): string {
    const now = packet.timestamp;
    const st = this.st;
    const ip = frame.parameter2 !== 0 ? ipv4ToString(frame.parameter2) : packet.src;
    const port = frame.dataCount !== 0 ? frame.dataCount : this.opts.serverPort;
    const known = st.servers.has(`${ip}:${port}`);
    const srv = st.server(ip, port, now);
    srv.learnedFrom.beacon = true;
    srv.beacons++;
    if (frame.dataType !== 0) srv.minor = frame.dataType;
    const id = frame.parameter1;
    if (srv.lastBeaconId !== null) {
      if (id === srv.lastBeaconId) srv.beaconRepeats++;
      else if (id < srv.lastBeaconId) srv.beaconRestarts++;
    }
    srv.lastBeaconId = id;
    srv.lastBeaconTime = now;
    if (!known) this.serverLearned(ip, port, packet);
    return srv.address;
  }
}

import type { CommandField, CommandFields } from '@ca-shark/protocol';

/**
 * The part of a decoder record that the analyses read. `@ca-shark/decoder`'s `CaRecord` satisfies it;
 * keeping the analyses to this narrow view lets them be tested with small hand-made conversations.
 */
export interface AnalysisRecord {
  frame: number;
  /** Unix seconds. */
  timestamp: number;
  src: string;
  dst: string;
  transport: { protocol: 'udp' | 'tcp'; sport: number; dport: number };
  command: CommandFields;
  pv: string | null;
  role: 'request' | 'response';
  circuit?: number;
  /** Seconds since the request this record answers. */
  latency?: number;
  request?: { frame: number; timestamp: number; command: string };
  /** "ip:port" of the CA server end (TCP server port, or UDP 5064 side). */
  server?: string;
  /** "ip:port" of the CA client end. */
  client?: string;
  /** Message size in bytes, header included. */
  size?: number;
  /** pcapng interface the frame came from. */
  interfaceId?: number;
}

/** Reads a numeric command field, or undefined when absent or not a number. */
export function numberField(record: AnalysisRecord, field: CommandField): number | undefined {
  const value = record.command[field];
  return typeof value === 'number' ? value : undefined;
}

/** Reads a string command field, or undefined. */
export function stringField(record: AnalysisRecord, field: CommandField): string | undefined {
  const value = record.command[field];
  return typeof value === 'string' ? value : undefined;
}

/** Endpoint names kept by {@link endpoint} before it starts over (a capture holds few endpoints). */
const MAX_ENDPOINT_NAMES = 4096;
/** ip → port → "ip:port" */
const endpointNames = new Map<string, Map<number, string>>();
let endpointNameCount = 0;

/**
 * "ip:port", one string per endpoint: a new one per record cost a concatenation, and a flattening and a
 * hash at its first use as a map key (the decoder's address strings are shared, so finding the made name
 * costs two lookups of hashed keys).
 */
export function endpoint(ip: string, port: number): string {
  let byPort = endpointNames.get(ip);
  let name = byPort?.get(port);
  if (name !== undefined) return name;
  if (endpointNameCount >= MAX_ENDPOINT_NAMES) {
    // Many ports of one host count too (a search flood from ephemeral ports).
    endpointNames.clear();
    endpointNameCount = 0;
    byPort = undefined;
  }
  if (byPort === undefined) endpointNames.set(ip, (byPort = new Map()));
  byPort.set(port, (name = `${ip}:${port}`));
  endpointNameCount++;
  return name;
}

/** Names {@link endpoint} keeps now (tests check the bound). */
export function endpointNamesKept(): number {
  return endpointNameCount;
}

/** `ip:port` of the sender / receiver of a record. */
export function sender(record: AnalysisRecord): string {
  return endpoint(record.src, record.transport.sport);
}
export function receiver(record: AnalysisRecord): string {
  return endpoint(record.dst, record.transport.dport);
}

/** SEARCH reply `ip` value meaning "use the datagram's source address" (§3.2). */
const ADDRESS_FROM_SOURCE = '255.255.255.255';

/**
 * The server end a response came from, in the "ip:port" form the other analyses use (TCP port). `name` is
 * the command's name, when the caller has read it already (each read of it is a megamorphic load).
 */
export function respondingServer(record: AnalysisRecord, name: string = record.command.name): string {
  if (name === 'SearchResponse') {
    const ip = stringField(record, 'ip');
    const port = numberField(record, 'port');
    return endpoint(!ip || ip === ADDRESS_FROM_SOURCE ? record.src : ip, port ?? record.transport.sport);
  }
  return record.server ?? sender(record);
}

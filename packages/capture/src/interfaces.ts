import { type AddonDevice, loadAddon } from './addon.js';
import { CaptureError } from './errors.js';

/** PCAP_IF_* bits from pcap/pcap.h. */
const PCAP_IF = {
  LOOPBACK: 0x1,
  UP: 0x2,
  RUNNING: 0x4,
  WIRELESS: 0x8,
  CONNECTION_STATUS: 0x30,
  CONNECTION_STATUS_CONNECTED: 0x10,
  CONNECTION_STATUS_DISCONNECTED: 0x20,
} as const;

/** One address of an interface. */
export interface InterfaceAddress {
  addr: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

/** One capture device, as `tcpdump -D` lists it. */
export interface InterfaceInfo {
  /** Name to pass as `iface` (e.g. 'eth0', 'lo', 'any'). */
  name: string;
  /** libpcap's description, when it has one (pseudo-devices such as 'any' do). */
  description?: string;
  /** IPv4 and IPv6 addresses. */
  addresses: InterfaceAddress[];
  loopback: boolean;
  up: boolean;
  running: boolean;
  wireless: boolean;
  /** Link state where the platform knows it; 'not applicable' for pseudo-devices and loopback. */
  connection: 'connected' | 'disconnected' | 'not applicable' | 'unknown';
}

/** Converts one addon device entry; exported for tests. */
export function toInterfaceInfo(dev: AddonDevice): InterfaceInfo {
  const flags = dev.pcapFlags ?? 0;
  const status = flags & PCAP_IF.CONNECTION_STATUS;
  const info: InterfaceInfo = {
    name: dev.name,
    addresses: dev.addresses
      .filter((a): a is InterfaceAddress => typeof a.addr === 'string')
      .map((a) => {
        const out: InterfaceAddress = { addr: a.addr };
        if (a.netmask !== undefined) out.netmask = a.netmask;
        if (a.broadaddr !== undefined) out.broadaddr = a.broadaddr;
        if (a.dstaddr !== undefined) out.dstaddr = a.dstaddr;
        return out;
      }),
    loopback: (flags & PCAP_IF.LOOPBACK) !== 0,
    up: (flags & PCAP_IF.UP) !== 0,
    running: (flags & PCAP_IF.RUNNING) !== 0,
    wireless: (flags & PCAP_IF.WIRELESS) !== 0,
    connection:
      status === PCAP_IF.CONNECTION_STATUS
        ? 'not applicable'
        : status === PCAP_IF.CONNECTION_STATUS_CONNECTED
          ? 'connected'
          : status === PCAP_IF.CONNECTION_STATUS_DISCONNECTED
            ? 'disconnected'
            : 'unknown',
  };
  if (dev.description !== undefined) info.description = dev.description;
  return info;
}

/**
 * Capture devices libpcap can open, in libpcap's order (the order `tcpdump -D` prints). Needs no privileges,
 * though without them some pseudo-devices may be missing.
 */
export function listInterfaces(): InterfaceInfo[] {
  const { Cap } = loadAddon();
  let devices: AddonDevice[];
  try {
    devices = Cap.deviceList();
  } catch (err) {
    const pcapMessage = (err as Error).message;
    throw new CaptureError('CAPTURE_OPEN_FAILED', `cannot list capture interfaces: ${pcapMessage}`, {
      pcapMessage,
      cause: err,
    });
  }
  return devices.map(toInterfaceInfo);
}

/**
 * Renders interfaces as `tcpdump -D` does (`1.eth0 [Up, Running, Connected]`, one a line, description in
 * parentheses), with the interface's addresses appended.
 */
export function formatInterfaceList(interfaces: readonly InterfaceInfo[]): string {
  return interfaces
    .map((iface, i) => {
      const flags: string[] = [];
      if (iface.up) flags.push('Up');
      if (iface.running) flags.push('Running');
      if (iface.wireless) flags.push('Wireless');
      if (iface.loopback) flags.push('Loopback');
      // tcpdump's words: a wireless link is "associated", a wired one "connected".
      if (iface.connection === 'connected') flags.push(iface.wireless ? 'Associated' : 'Connected');
      else if (iface.connection === 'disconnected') flags.push(iface.wireless ? 'Not associated' : 'Disconnected');
      const desc = iface.description !== undefined ? ` (${iface.description})` : '';
      const addrs = iface.addresses.length > 0 ? ` ${iface.addresses.map((a) => a.addr).join(' ')}` : '';
      return `${i + 1}.${iface.name}${desc} [${flags.length > 0 ? flags.join(', ') : 'none'}]${addrs}`;
    })
    .join('\n');
}

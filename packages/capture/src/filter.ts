/** CA's default UDP ports: server (searches, replies) and repeater (beacons). */
const CA_SERVER_PORT = 5064;
const CA_REPEATER_PORT = 5065;
const MAX_PORT = 65535;

/**
 * The {@link DEFAULT_FILTER} for a site whose CA runs on other UDP ports (EPICS_CA_SERVER_PORT,
 * EPICS_CA_REPEATER_PORT). Throws a RangeError for a port outside 1..65535.
 */
export function caFilter(serverPort: number = CA_SERVER_PORT, repeaterPort: number = CA_REPEATER_PORT): string {
  for (const port of [serverPort, repeaterPort]) {
    if (!Number.isInteger(port) || port < 1 || port > MAX_PORT) throw new RangeError(`not a UDP port: ${port}`);
  }
  const udp = serverPort === repeaterPort ? `port ${serverPort}` : `port ${serverPort} or port ${repeaterPort}`;
  return `tcp or (udp and (${udp})) or (ip[6:2] & 0x3fff != 0)`;
}

/**
 * Default BPF capture filter: everything Channel Access can travel in.
 *
 * - `udp and (port 5064 or port 5065)`: name searches and replies (5064) and beacons (5065), whichever side
 *   the well-known port is on.
 * - `tcp`: all of it, because a CA server (IOC) listens on any TCP port it likes (5064 is only the default;
 *   several IOCs on one host get ephemeral ports), and the port is only learnt from search replies.
 * - `ip[6:2] & 0x3fff != 0`: IPv4 fragments (More Fragments set or a non-zero offset). Only the first fragment
 *   carries the UDP header, so a port filter alone would keep it and lose the rest of a large search reply
 *   or a large UDP message.
 *
 * Not covered: 802.1Q-tagged frames (BPF needs an explicit `vlan` for those; use
 * `vlan and (<this filter>)` or an empty filter on trunk ports) and CA on non-default UDP ports
 * (EPICS_CA_SERVER_PORT / EPICS_CA_REPEATER_PORT): see {@link caFilter}.
 */
export const DEFAULT_FILTER = caFilter();

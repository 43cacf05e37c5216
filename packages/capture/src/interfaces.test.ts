import { describe, expect, it } from 'vitest';
import { formatInterfaceList, toInterfaceInfo } from './interfaces.js';

describe('toInterfaceInfo', () => {
  it('decodes the PCAP_IF_* bits', () => {
    // 0x37 = loopback | up | running | connection status "not applicable", as libpcap reports lo.
    const lo = toInterfaceInfo({
      name: 'lo',
      addresses: [{ addr: '127.0.0.1', netmask: '255.0.0.0' }, {}],
      pcapFlags: 0x37,
    });
    expect(lo).toEqual({
      name: 'lo',
      addresses: [{ addr: '127.0.0.1', netmask: '255.0.0.0' }],
      loopback: true,
      up: true,
      running: true,
      wireless: false,
      connection: 'not applicable',
    });
    expect(toInterfaceInfo({ name: 'eth0', addresses: [], pcapFlags: 0x16 }).connection).toBe('connected');
    expect(toInterfaceInfo({ name: 'eth1', addresses: [], pcapFlags: 0x22 }).connection).toBe('disconnected');
    expect(toInterfaceInfo({ name: 'x', addresses: [] }).connection).toBe('unknown');
  });
});

describe('formatInterfaceList', () => {
  it('prints what tcpdump -D prints, plus addresses', () => {
    const list = [
      { name: 'eth0', addresses: [{ addr: '192.0.2.2' }], pcapFlags: 0x16 },
      { name: 'any', description: 'Pseudo-device that captures on all interfaces', addresses: [], pcapFlags: 0x36 },
      { name: 'lo', addresses: [{ addr: '127.0.0.1' }, { addr: '::1' }], pcapFlags: 0x37 },
      { name: 'ifb0', addresses: [], pcapFlags: 0x30 },
      { name: 'wlan0', addresses: [], pcapFlags: 0x2e },
    ].map(toInterfaceInfo);
    expect(formatInterfaceList(list).split('\n')).toEqual([
      '1.eth0 [Up, Running, Connected] 192.0.2.2',
      '2.any (Pseudo-device that captures on all interfaces) [Up, Running]',
      '3.lo [Up, Running, Loopback] 127.0.0.1 ::1',
      '4.ifb0 [none]',
      '5.wlan0 [Up, Running, Wireless, Not associated]',
    ]);
  });
});

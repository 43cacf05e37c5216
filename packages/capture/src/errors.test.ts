import { describe, expect, it } from 'vitest';
import {
  BadFilterError,
  CaptureError,
  CapturePermissionError,
  NoSuchInterfaceError,
  PCAP_STATUS,
  translateOpenError,
} from './errors.js';

const names = () => ['eth0', 'lo', 'any'];

describe('translateOpenError', () => {
  it('maps PCAP_ERROR_NO_SUCH_DEVICE to NoSuchInterfaceError listing the interfaces', () => {
    const err = translateOpenError(
      { message: 'No such device exists', stage: 'activate', pcapStatus: PCAP_STATUS.NO_SUCH_DEVICE },
      'eht0',
      '',
      names,
    );
    expect(err).toBeInstanceOf(NoSuchInterfaceError);
    expect(err.code).toBe('CAPTURE_NO_SUCH_INTERFACE');
    expect(err.iface).toBe('eht0');
    expect(err.message).toBe('no such interface "eht0" (libpcap: No such device exists); available: eth0, lo, any');
  });

  it('still names the interface when the list cannot be had', () => {
    const err = translateOpenError(
      { message: 'No such device exists', stage: 'activate', pcapStatus: PCAP_STATUS.NO_SUCH_DEVICE },
      'x',
      '',
      () => {
        throw new Error('findalldevs failed');
      },
    );
    expect(err.message).toBe('no such interface "x" (libpcap: No such device exists)');
  });

  it.each([PCAP_STATUS.PERM_DENIED, PCAP_STATUS.PROMISC_PERM_DENIED])(
    'maps status %i to CapturePermissionError that explains sudo and setcap',
    (status) => {
      const err = translateOpenError(
        { message: 'socket: Operation not permitted', stage: 'activate', pcapStatus: status },
        'lo',
        '',
        names,
      );
      expect(err).toBeInstanceOf(CapturePermissionError);
      expect(err.code).toBe('CAPTURE_PERMISSION_DENIED');
      expect(err.pcapMessage).toBe('socket: Operation not permitted');
      expect(err.message).toContain('sudo');
      expect(err.message).toContain('setcap cap_net_raw,cap_net_admin+eip $(readlink -f $(which node))');
    },
  );

  it.each(['compile', 'setfilter'])('maps a failure at stage %s to BadFilterError with libpcap`s text', (stage) => {
    const err = translateOpenError(
      { message: "can't parse filter expression: syntax error", stage, pcapStatus: PCAP_STATUS.ERROR },
      'lo',
      'udp and port',
      names,
    );
    expect(err).toBeInstanceOf(BadFilterError);
    expect((err as BadFilterError).filter).toBe('udp and port');
    expect(err.message).toBe(`bad capture filter "udp and port": can't parse filter expression: syntax error`);
  });

  it('maps an interface that is down to CAPTURE_INTERFACE_DOWN', () => {
    const err = translateOpenError(
      { message: 'That device is not up', stage: 'activate', pcapStatus: PCAP_STATUS.IFACE_NOT_UP },
      'eth1',
      '',
      names,
    );
    expect(err.code).toBe('CAPTURE_INTERFACE_DOWN');
    expect(err.message).toContain('ip link set eth1 up');
  });

  it('keeps anything else as CAPTURE_OPEN_FAILED with libpcap`s message', () => {
    const err = translateOpenError({ message: 'something odd', stage: 'buffer', pcapStatus: -3 }, 'lo', '', names);
    expect(err).toBeInstanceOf(CaptureError);
    expect(err.constructor).toBe(CaptureError);
    expect(err.code).toBe('CAPTURE_OPEN_FAILED');
    expect(err.message).toBe('cannot capture on "lo": something odd');
  });

  it('names error classes after themselves', () => {
    const err = translateOpenError({ message: 'm', stage: 'compile' }, 'lo', 'f', names);
    expect(err.name).toBe('BadFilterError');
    expect(String(err)).toMatch(/^BadFilterError: /);
  });
});

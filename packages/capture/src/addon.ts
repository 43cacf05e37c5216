/**
 * Typed view of the `cap` addon as patched by `patches/cap@0.2.1.patch` at the workspace root. The patch adds
 * the kernel timestamp, caplen and wire length to every `packet` event, and `stats()`, `linkType()`,
 * `tstampPrecision()` and an options argument to `open()`; see docs/capture.md.
 */
import { createRequire } from 'node:module';
import { CaptureError } from './errors.js';

/** Options the patched `Cap#open()` accepts as its fifth argument. */
export interface AddonOpenOptions {
  snaplen?: number;
  promisc?: boolean;
  immediate?: boolean;
  /** pcap read timeout in milliseconds. */
  timeout?: number;
  tstampPrecision?: 'micro' | 'nano';
}

/** `pcap_stats()` as the patched addon returns it (libpcap's 32-bit counters). */
export interface AddonStats {
  ps_recv: number;
  ps_drop: number;
  ps_ifdrop: number;
}

/**
 * Arguments of the patched `packet` event: bytes copied into the open() buffer, whether that copy was cut
 * short by the buffer, the kernel timestamp (whole seconds, nanoseconds), caplen and the length on the wire.
 */
export type AddonPacketListener = (
  nbytes: number,
  truncated: boolean,
  tsSec: number,
  tsNsec: number,
  caplen: number,
  len: number,
) => void;

/** One capture handle of the addon. */
export interface AddonCap {
  open(device: string, filter: string, bufSize: number, buffer: Buffer, options?: AddonOpenOptions): string;
  close(): boolean;
  stats(): AddonStats;
  linkType(): number;
  tstampPrecision(): 'micro' | 'nano';
  on(event: 'packet', listener: AddonPacketListener): this;
  /** Emitted once when reading fails (e.g. the interface was deleted); the handle is already closed. */
  on(event: 'error', listener: (err: AddonOpenError) => void): this;
  removeAllListeners(event?: string): this;
}

/** One address of an interface, as `pcap_findalldevs()` reports it. */
export interface AddonAddress {
  addr?: string;
  netmask?: string;
  broadaddr?: string;
  dstaddr?: string;
}

/** One entry of `Cap.deviceList()`. */
export interface AddonDevice {
  name: string;
  description?: string;
  addresses: AddonAddress[];
  /** PCAP_IF_* bits (added by the patch). */
  pcapFlags?: number;
}

/** The module object of `cap`. */
export interface AddonModule {
  Cap: { new (): AddonCap; deviceList(): AddonDevice[] };
}

/** Error thrown by the patched `open()`: where libpcap failed and its status code. */
export interface AddonOpenError extends Error {
  stage?: string;
  pcapStatus?: number;
}

let cached: AddonModule | undefined;

/**
 * Loads the addon on first use, so that importing this package never fails on a machine where only file
 * and stdin sources are used and the native build is missing.
 */
export function loadAddon(): AddonModule {
  if (cached) return cached;
  const require = createRequire(import.meta.url);
  let mod: AddonModule;
  try {
    mod = require('cap') as AddonModule;
  } catch (err) {
    throw new CaptureError(
      'CAPTURE_ADDON_UNAVAILABLE',
      `the libpcap addon (npm "cap") is not built: ${(err as Error).message}. ` +
        'Install libpcap-dev and a C++ toolchain, then run `npm_config_nodedir=/usr pnpm install`.',
      { cause: err },
    );
  }
  if (typeof mod.Cap?.prototype?.stats !== 'function' || typeof mod.Cap.prototype.linkType !== 'function') {
    throw new CaptureError(
      'CAPTURE_ADDON_UNAVAILABLE',
      'the installed "cap" addon is not the patched one (no stats()/linkType()): ' +
        'reinstall with `pnpm install` so that patches/cap@0.2.1.patch is applied',
    );
  }
  cached = mod;
  return mod;
}

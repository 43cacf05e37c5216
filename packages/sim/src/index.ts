/**
 * @ca-shark/sim: a Channel Access IOC simulator and workload clients that speak real CA over real
 * sockets (loopback by default), for demos, end-to-end tests and benchmark captures.
 */
export { startIoc } from './server.js';
export type { IocOptions, IocHandle, IocHooks, IocStats, IocLogEvent } from './server.js';
export { connectClient, parseAddrList, CaClient, ClientChannel, ClientSubscription, CaError } from './client.js';
export type { ClientOptions, ClientStats, ChannelValue, GetOptions, PutOptions, SubscribeOptions } from './client.js';
export { runLoad, defaultLoadPvNames, parseFamilies, DBR_FAMILIES } from './workload.js';
export type { LoadOptions, LoadReport, DbrFamily } from './workload.js';
export {
  Pv,
  PvDatabase,
  standardPvs,
  waveformPvs,
  parseWaveformGroup,
  coerceNumber,
  epicsTimeFromMs,
  ENUM_STATES,
} from './pvs.js';
export type {
  NativeType,
  PvSpec,
  PvLimits,
  PvUpdate,
  PutFailure,
  EpicsTime,
  StandardPvOptions,
  WaveformGroup,
} from './pvs.js';
export { Prng } from './prng.js';
export { startRepeater } from './repeater.js';
export type { RepeaterOptions, RepeaterHandle } from './repeater.js';

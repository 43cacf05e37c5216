/**
 * The simulated IOC's process variables: values, metadata, alarm state computed from limits, and
 * periodic updates. Pure bookkeeping: no sockets, no timers (the server drives `tick`).
 */
import { AlarmSeverity as Severity, AlarmStatus, EPICS_EPOCH_OFFSET, EventMask } from '@ca-shark/protocol';
import { Prng } from './prng.js';

/** The seven CA native element types, by their DBR names. */
export type NativeType = 'STRING' | 'SHORT' | 'FLOAT' | 'ENUM' | 'CHAR' | 'LONG' | 'DOUBLE';

/** Display, alarm, warning and control limits (EPICS HOPR/LOPR, HIHI/LOLO, HIGH/LOW, DRVH/DRVL). */
export interface PvLimits {
  displayLow?: number;
  displayHigh?: number;
  /** Value ≤ alarmLow ⇒ LOLO/MAJOR. */
  alarmLow?: number;
  /** Value ≥ alarmHigh ⇒ HIHI/MAJOR. */
  alarmHigh?: number;
  /** Value ≤ warningLow ⇒ LOW/MINOR. */
  warningLow?: number;
  /** Value ≥ warningHigh ⇒ HIGH/MINOR. */
  warningHigh?: number;
  controlLow?: number;
  controlHigh?: number;
}

/** How a PV changes on its own. Ticks come from the server at the configured rate. */
export type PvUpdate =
  /** Adds `step` (default 1) every `periodMs` (its own timer, independent of the rate). */
  | { kind: 'counter'; periodMs: number; step?: number }
  /**
   * A sine between the display limits (or ±amplitude), advancing one step per tick, plus seeded noise.
   * With `periodMs` it ticks on its own timer instead of at the server's rate.
   */
  | { kind: 'sine'; ticksPerCycle?: number; noise?: number; periodMs?: number }
  /** A seeded random walk inside the display limits; strings and enums pick a new state. `periodMs` as for sine. */
  | { kind: 'random'; periodMs?: number };

/** The tick period of a PV that updates on its own timer, or undefined when it follows the server's rate. */
export function ownPeriodMs(update: PvUpdate | undefined): number | undefined {
  return update?.periodMs;
}

/** Everything needed to create one PV. */
export interface PvSpec {
  /** Full PV name, prefix included. */
  name: string;
  type: NativeType;
  /** Native (maximum) element count; 1 for scalars. */
  count?: number;
  /** Initial value(s); the current length of an array PV is the initial array's length. */
  value?: number | string | readonly number[] | readonly string[];
  units?: string;
  precision?: number;
  limits?: PvLimits;
  /** ENUM state strings (≤ 16, ≤ 25 characters each). */
  enumStrings?: readonly string[];
  /** ENUM alarm severity per state (like mbbi ZRSV..); states with a severity raise a STATE alarm. */
  enumSeverities?: readonly number[];
  /** Default true. Read-only PVs answer writes with ECA_NOWTACCESS. */
  writable?: boolean;
  update?: PvUpdate;
}

/** Why a put was refused, mapped to an ECA code by the server. */
export type PutFailure = 'read-only' | 'bad-count' | 'bad-value';

/** A timestamp in EPICS form. */
export interface EpicsTime {
  secondsPastEpoch: number;
  nanoseconds: number;
}

/** Converts a Unix time in milliseconds to an EPICS timestamp. */
export function epicsTimeFromMs(ms: number): EpicsTime {
  const whole = Math.floor(ms / 1000);
  return {
    secondsPastEpoch: Math.max(0, whole - EPICS_EPOCH_OFFSET),
    nanoseconds: Math.round((ms - whole * 1000) * 1e6),
  };
}

const MAX_ENUM_STATES = 16;
const MAX_ENUM_STRING_CHARS = 25;
const MAX_STRING_CHARS = 39;

/** One process variable. */
export class Pv {
  readonly name: string;
  readonly type: NativeType;
  readonly maxCount: number;
  readonly units: string;
  readonly precision: number;
  readonly limits: Readonly<PvLimits>;
  readonly enumStrings: readonly string[];
  readonly writable: boolean;
  readonly update: PvUpdate | undefined;
  /** Current value; its length is the current element count (≤ maxCount). */
  value: number[] | string[];
  status: number = AlarmStatus.NO_ALARM;
  severity: number = Severity.NO_ALARM;
  time: EpicsTime;
  private readonly enumSeverities: readonly number[];
  private readonly listeners = new Set<(mask: number) => void>();
  private ticks = 0;

  constructor(spec: PvSpec, nowMs: number) {
    const count = spec.count ?? 1;
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`${spec.name}: count must be ≥ 1`);
    if (spec.name.length === 0) throw new RangeError('a PV needs a name');
    this.name = spec.name;
    this.type = spec.type;
    this.maxCount = count;
    this.units = spec.units ?? '';
    this.precision = spec.precision ?? 0;
    this.limits = { ...spec.limits };
    this.enumStrings = spec.enumStrings ?? [];
    if (this.enumStrings.length > MAX_ENUM_STATES) throw new RangeError(`${spec.name}: more than 16 enum states`);
    for (const s of this.enumStrings) {
      if (s.length > MAX_ENUM_STRING_CHARS) throw new RangeError(`${spec.name}: enum string "${s}" too long`);
    }
    this.enumSeverities = spec.enumSeverities ?? [];
    this.writable = spec.writable ?? true;
    this.update = spec.update;
    this.value = this.initialValue(spec.value);
    this.time = epicsTimeFromMs(nowMs);
    this.computeAlarm();
  }

  /** True for STRING PVs (values are strings). */
  get isString(): boolean {
    return this.type === 'STRING';
  }

  /** Registers a change listener (mask = EventMask bits); returns the unsubscribe function. */
  onChange(listener: (mask: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of change listeners (monitors) attached. */
  get listenerCount(): number {
    return this.listeners.size;
  }

  /**
   * Stores new values (already converted to this PV's element kind: numbers, or strings for STRING
   * PVs) and notifies listeners. Checks the element count, enum range and writability.
   */
  put(values: readonly number[] | readonly string[], nowMs: number, force = false): PutFailure | undefined {
    if (!this.writable && !force) return 'read-only';
    if (values.length === 0 || values.length > this.maxCount) return 'bad-count';
    if (this.isString) {
      const strings: string[] = [];
      for (const v of values) {
        if (typeof v !== 'string') return 'bad-value';
        // A record's string field holds 39 characters and a NUL: longer values are cut, as dbPut does.
        strings.push(v.slice(0, MAX_STRING_CHARS));
      }
      this.commit(strings, nowMs);
      return undefined;
    }
    const numbers: number[] = [];
    for (const v of values) {
      if (typeof v !== 'number' || (Number.isNaN(v) && this.type !== 'DOUBLE' && this.type !== 'FLOAT'))
        return 'bad-value';
      const n = coerceNumber(this.type, v);
      if (this.type === 'ENUM' && this.enumStrings.length > 0 && n >= this.enumStrings.length) return 'bad-value';
      numbers.push(n);
    }
    this.commit(numbers, nowMs);
    return undefined;
  }

  /** Advances a periodic PV by one step of its update behaviour. */
  tick(prng: Prng, nowMs: number): void {
    const update = this.update;
    if (update === undefined) return;
    this.ticks += 1;
    if (update.kind === 'counter') {
      if (this.isString) {
        this.commit([`tick ${this.ticks}`], nowMs);
      } else {
        const step = update.step ?? 1;
        this.commit(
          (this.value as number[]).map((v) => coerceNumber(this.type, v + step)),
          nowMs,
        );
      }
      return;
    }
    if (this.isString) {
      this.commit([`${update.kind} ${prng.int(0, 9999)}`], nowMs);
      return;
    }
    if (this.type === 'ENUM') {
      const states = Math.max(1, this.enumStrings.length);
      this.commit([prng.int(0, states - 1)], nowMs);
      return;
    }
    const [low, high] = this.range();
    const mid = (low + high) / 2;
    const amplitude = (high - low) / 2;
    const current = this.value as number[];
    const n = current.length;
    const next = new Array<number>(n);
    if (update.kind === 'sine') {
      const period = update.ticksPerCycle ?? 50;
      const noise = update.noise ?? 0.02;
      for (let i = 0; i < n; i++) {
        const phase = (2 * Math.PI * (this.ticks + (i * period) / Math.max(1, n))) / period;
        const jitter = noise * amplitude * (prng.next() * 2 - 1);
        next[i] = coerceNumber(this.type, mid + amplitude * 0.98 * Math.sin(phase) + jitter);
      }
    } else {
      for (let i = 0; i < n; i++) {
        const stepped = (current[i] ?? mid) + amplitude * 0.1 * (prng.next() * 2 - 1);
        next[i] = coerceNumber(this.type, Math.min(high, Math.max(low, stepped)));
      }
    }
    this.commit(next, nowMs);
  }

  /** Tells listeners that metadata changed (DBE_PROPERTY), e.g. after a limit change. */
  touchProperties(): void {
    this.notify(EventMask.DBE_PROPERTY);
  }

  private commit(values: number[] | string[], nowMs: number): void {
    const oldStatus = this.status;
    const oldSeverity = this.severity;
    this.value = values;
    this.time = epicsTimeFromMs(nowMs);
    this.computeAlarm();
    let mask = EventMask.DBE_VALUE | EventMask.DBE_LOG;
    if (oldStatus !== this.status || oldSeverity !== this.severity) mask |= EventMask.DBE_ALARM;
    this.notify(mask);
  }

  private notify(mask: number): void {
    for (const listener of [...this.listeners]) listener(mask);
  }

  private range(): [number, number] {
    const low = this.limits.displayLow ?? (this.type === 'CHAR' ? 0 : -100);
    const high = this.limits.displayHigh ?? (this.type === 'CHAR' ? 255 : 100);
    return high > low ? [low, high] : [low, low + 1];
  }

  private computeAlarm(): void {
    this.status = AlarmStatus.NO_ALARM;
    this.severity = Severity.NO_ALARM;
    if (this.isString || this.value.length !== 1) return;
    const v = this.value[0] as number;
    if (this.type === 'ENUM') {
      const sev = this.enumSeverities[v] ?? Severity.NO_ALARM;
      if (sev !== Severity.NO_ALARM) {
        this.status = AlarmStatus.STATE;
        this.severity = sev;
      }
      return;
    }
    const l = this.limits;
    if (l.alarmHigh !== undefined && v >= l.alarmHigh) this.raise(AlarmStatus.HIHI, Severity.MAJOR);
    else if (l.alarmLow !== undefined && v <= l.alarmLow) this.raise(AlarmStatus.LOLO, Severity.MAJOR);
    else if (l.warningHigh !== undefined && v >= l.warningHigh) this.raise(AlarmStatus.HIGH, Severity.MINOR);
    else if (l.warningLow !== undefined && v <= l.warningLow) this.raise(AlarmStatus.LOW, Severity.MINOR);
  }

  private raise(status: number, severity: number): void {
    this.status = status;
    this.severity = severity;
  }

  private initialValue(initial: PvSpec['value']): number[] | string[] {
    const given: readonly (number | string)[] =
      initial === undefined
        ? []
        : Array.isArray(initial)
          ? (initial as readonly (number | string)[])
          : [initial as number | string];
    if (given.length > this.maxCount) throw new RangeError(`${this.name}: initial value longer than count`);
    const length = given.length === 0 ? this.maxCount : given.length;
    if (this.isString) {
      const out: string[] = [];
      for (let i = 0; i < length; i++) out.push(String(given[i] ?? ''));
      return out;
    }
    const out: number[] = [];
    for (let i = 0; i < length; i++) {
      const v = given[i] ?? 0;
      if (typeof v !== 'number') throw new TypeError(`${this.name}: numeric PV with a string initial value`);
      out.push(coerceNumber(this.type, v));
    }
    return out;
  }
}

const int16 = new Int16Array(1);
const uint16 = new Uint16Array(1);
const uint8 = new Uint8Array(1);
const int32 = new Int32Array(1);

/**
 * Stores a number the way the C element type would hold it: integers truncate toward zero and wrap
 * like a C cast, FLOAT rounds to single precision.
 */
export function coerceNumber(type: NativeType, v: number): number {
  switch (type) {
    case 'DOUBLE':
      return v;
    case 'FLOAT':
      return Math.fround(v);
    case 'SHORT':
      int16[0] = Number.isFinite(v) ? Math.trunc(v) : 0;
      return int16[0];
    case 'ENUM':
      uint16[0] = Number.isFinite(v) ? Math.trunc(v) : 0;
      return uint16[0];
    case 'CHAR':
      uint8[0] = Number.isFinite(v) ? Math.trunc(v) : 0;
      return uint8[0];
    case 'LONG':
      int32[0] = Number.isFinite(v) ? Math.trunc(v) : 0;
      return int32[0];
    case 'STRING':
      throw new TypeError('coerceNumber on a STRING type');
  }
}

/** A set of PVs by name, with creation and removal events for the server. */
export class PvDatabase {
  private readonly pvs = new Map<string, Pv>();
  private readonly removalListeners = new Set<(pv: Pv) => void>();

  constructor(specs: readonly PvSpec[] = [], nowMs = Date.now()) {
    for (const spec of specs) this.add(spec, nowMs);
  }

  add(spec: PvSpec, nowMs = Date.now()): Pv {
    if (this.pvs.has(spec.name)) throw new Error(`duplicate PV name ${spec.name}`);
    const pv = new Pv(spec, nowMs);
    this.pvs.set(pv.name, pv);
    return pv;
  }

  /** Removes a PV; listeners (the server) drop its channels. Returns false if it did not exist. */
  remove(name: string): boolean {
    const pv = this.pvs.get(name);
    if (pv === undefined) return false;
    this.pvs.delete(name);
    for (const listener of [...this.removalListeners]) listener(pv);
    return true;
  }

  onRemove(listener: (pv: Pv) => void): () => void {
    this.removalListeners.add(listener);
    return () => this.removalListeners.delete(listener);
  }

  get(name: string): Pv | undefined {
    return this.pvs.get(name);
  }

  has(name: string): boolean {
    return this.pvs.has(name);
  }

  get size(): number {
    return this.pvs.size;
  }

  names(): string[] {
    return [...this.pvs.keys()];
  }

  all(): IterableIterator<Pv> {
    return this.pvs.values();
  }
}

/** Options for the standard PV set. */
export interface StandardPvOptions {
  /** Prefix of every name, e.g. 'sim:'. */
  prefix: string;
  /** Number of extra generated PVs `${prefix}pv0..` cycling through every native type. */
  generated?: number;
  /** Seed for generated initial values. */
  seed?: number;
  /** Element count of the large waveform `${prefix}bigwave` (default 100000: needs the extended header). */
  bigWaveformCount?: number;
}

/** A group of DOUBLE waveform PVs of one size and update rate (`ca-sim ioc --waveform COUNT@HZxN`). */
export interface WaveformGroup {
  /** Elements per waveform (≥ 1). */
  count: number;
  /** Updates per second of each waveform (> 0). */
  rateHz: number;
  /** Number of such waveforms (default 1). */
  copies?: number;
}

/**
 * Updating DOUBLE waveform PVs named `${prefix}wave${count}_${i}`: a noisy sine across the array, each
 * PV on its own timer at `rateHz`, like a digitiser or a beam profile monitor.
 */
export function waveformPvs(prefix: string, groups: readonly WaveformGroup[]): PvSpec[] {
  const specs: PvSpec[] = [];
  for (const g of groups) {
    if (!Number.isInteger(g.count) || g.count < 1)
      throw new RangeError(`waveform count must be a positive integer, got ${g.count}`);
    if (!(g.rateHz > 0)) throw new RangeError(`waveform rate must be > 0 Hz, got ${g.rateHz}`);
    const copies = g.copies ?? 1;
    for (let i = 0; i < copies; i++) {
      specs.push({
        name: `${prefix}wave${g.count}_${i}`,
        type: 'DOUBLE',
        count: g.count,
        value: Array.from({ length: g.count }, (_, k) => Math.sin((2 * Math.PI * k) / g.count)),
        units: 'V',
        precision: 4,
        limits: { displayLow: -10, displayHigh: 10 },
        update: { kind: 'sine', ticksPerCycle: 20, noise: 0.01, periodMs: 1000 / g.rateHz },
      });
    }
  }
  return specs;
}

/**
 * Parses a waveform group written `COUNT[@HZ][xN]` (e.g. `30000@10`, `100@20x10`); HZ defaults to 10
 * and N to 1. Throws a RangeError that names the bad text.
 */
export function parseWaveformGroup(text: string): WaveformGroup {
  const m = /^(\d+)(?:@(\d+(?:\.\d+)?))?(?:x(\d+))?$/.exec(text.trim());
  if (m === null) throw new RangeError(`waveform "${text}" is not COUNT[@HZ][xN]`);
  const group = {
    count: Number(m[1]),
    rateHz: m[2] === undefined ? 10 : Number(m[2]),
    copies: m[3] === undefined ? 1 : Number(m[3]),
  };
  if (group.count < 1 || group.rateHz <= 0 || group.copies < 1)
    throw new RangeError(`waveform "${text}" needs COUNT ≥ 1, HZ > 0, N ≥ 1`);
  return group;
}

/** Enum states of `${prefix}enum`. */
export const ENUM_STATES = ['Off', 'On', 'Fault'] as const;

/** Types the generated PVs cycle through: every native type, then array flavours. */
const GENERATED_KINDS: readonly { type: NativeType; count: number }[] = [
  { type: 'DOUBLE', count: 1 },
  { type: 'FLOAT', count: 1 },
  { type: 'LONG', count: 1 },
  { type: 'SHORT', count: 1 },
  { type: 'CHAR', count: 1 },
  { type: 'ENUM', count: 1 },
  { type: 'STRING', count: 1 },
  { type: 'DOUBLE', count: 64 },
  { type: 'SHORT', count: 32 },
];

/**
 * The PVs every simulator serves (see docs/simulator.md for the list), plus `generated` extra ones
 * that update at the server's rate. The six documented names (`double`, `long`, `string`, `enum`,
 * `waveform`, `counter`) are stable; the others may grow.
 */
export function standardPvs(options: StandardPvOptions): PvSpec[] {
  const p = options.prefix;
  const prng = new Prng(options.seed ?? 1);
  const waveform = Array.from({ length: 1000 }, (_, i) => Math.sin((2 * Math.PI * i) / 100));
  const specs: PvSpec[] = [
    {
      name: `${p}double`,
      type: 'DOUBLE',
      value: 42.5,
      units: 'mm',
      precision: 3,
      limits: {
        displayLow: -100,
        displayHigh: 100,
        alarmLow: -90,
        alarmHigh: 90,
        warningLow: -70,
        warningHigh: 70,
        controlLow: -100,
        controlHigh: 100,
      },
    },
    {
      name: `${p}long`,
      type: 'LONG',
      value: 7,
      units: 'counts',
      limits: { displayLow: 0, displayHigh: 1000, alarmHigh: 900, warningHigh: 800, controlLow: 0, controlHigh: 1000 },
    },
    { name: `${p}string`, type: 'STRING', value: 'hello' },
    {
      name: `${p}enum`,
      type: 'ENUM',
      value: 0,
      enumStrings: ENUM_STATES,
      enumSeverities: [Severity.NO_ALARM, Severity.NO_ALARM, Severity.MAJOR],
    },
    {
      name: `${p}waveform`,
      type: 'DOUBLE',
      count: 1000,
      value: waveform,
      units: 'V',
      precision: 4,
      limits: { displayLow: -1, displayHigh: 1 },
    },
    { name: `${p}counter`, type: 'LONG', value: 0, update: { kind: 'counter', periodMs: 100 } },
    {
      name: `${p}float`,
      type: 'FLOAT',
      value: 1.5,
      units: 'A',
      precision: 2,
      limits: { displayLow: 0, displayHigh: 10, alarmHigh: 9.5, warningHigh: 8, controlLow: 0, controlHigh: 10 },
    },
    {
      name: `${p}short`,
      type: 'SHORT',
      value: -12,
      units: 'steps',
      limits: { displayLow: -1000, displayHigh: 1000, alarmLow: -900, alarmHigh: 900 },
    },
    {
      name: `${p}char`,
      type: 'CHAR',
      value: 65,
      units: 'chr',
      limits: { displayLow: 0, displayHigh: 127, warningHigh: 120 },
    },
    { name: `${p}chararray`, type: 'CHAR', count: 64, value: [...Buffer.from('ca-shark simulator\0')] },
    { name: `${p}longarray`, type: 'LONG', count: 16, value: Array.from({ length: 16 }, (_, i) => i * i) },
    { name: `${p}stringarray`, type: 'STRING', count: 4, value: ['alpha', 'beta', 'gamma', 'delta'] },
    {
      name: `${p}bigwave`,
      type: 'DOUBLE',
      count: options.bigWaveformCount ?? 100000,
      value: Array.from({ length: options.bigWaveformCount ?? 100000 }, (_, i) => i),
    },
    {
      name: `${p}readonly`,
      type: 'DOUBLE',
      value: 3.25,
      units: 'K',
      precision: 2,
      writable: false,
      limits: { displayLow: 0, displayHigh: 300 },
    },
    {
      name: `${p}sine`,
      type: 'DOUBLE',
      value: 0,
      units: 'deg',
      precision: 2,
      limits: { displayLow: -10, displayHigh: 10, alarmLow: -9, alarmHigh: 9, warningLow: -7, warningHigh: 7 },
      update: { kind: 'sine' },
    },
  ];
  const generated = options.generated ?? 0;
  for (let i = 0; i < generated; i++) {
    const kind = GENERATED_KINDS[i % GENERATED_KINDS.length] as { type: NativeType; count: number };
    const spec: PvSpec = {
      name: `${p}pv${i}`,
      type: kind.type,
      count: kind.count,
      update: { kind: i % 2 === 0 ? 'sine' : 'random' },
    };
    if (kind.type === 'ENUM') {
      spec.enumStrings = ['Low', 'Mid', 'High'];
      spec.value = prng.int(0, 2);
    } else if (kind.type === 'STRING') {
      spec.value = `gen ${prng.int(0, 999)}`;
    } else {
      const lo = kind.type === 'CHAR' ? 0 : -50;
      const hi = kind.type === 'CHAR' ? 200 : 50;
      spec.limits = { displayLow: lo, displayHigh: hi, alarmHigh: hi * 0.95, warningHigh: hi * 0.8 };
      spec.units = 'u';
      spec.precision = kind.type === 'DOUBLE' || kind.type === 'FLOAT' ? 3 : 0;
      spec.value = Array.from({ length: kind.count }, () => prng.float(lo, hi));
    }
    specs.push(spec);
  }
  return specs;
}

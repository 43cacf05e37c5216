import { runLoad, startIoc, type IocHandle } from '@ca-shark/sim';
import type { Logger } from 'pino';
import { DaemonError, PRIVILEGE_HINT } from '../errors.js';
import { LiveSource } from './live.js';
import type { CaptureCounters, Source, SourceDescription, SourceSink } from './types.js';

/** Options of a {@link DemoSource}. */
export interface DemoOptions {
  /** Interface to capture on (default 'lo'). */
  iface?: string;
  filter: string;
  serverPort: number;
  repeaterPort: number;
  snaplen?: number;
  bufferSize?: number;
  logger: Logger;
}

/** Runs of the workload; each restarts the next so the demo never runs dry. */
const LOAD_RUN_MS = 10 * 60 * 1000;

/**
 * `--demo`: a simulated IOC and a gentle workload (a few channels, monitors, reads and writes, and a small
 * search storm for missing PVs) on loopback, captured live like any other traffic. Capture opens first, so
 * a missing privilege fails before anything is started.
 */
export class DemoSource implements Source {
  private readonly live: LiveSource;
  private ioc: IocHandle | undefined;
  private readonly abort = new AbortController();
  private load: Promise<void> | undefined;

  constructor(private readonly options: DemoOptions) {
    this.live = new LiveSource({
      iface: options.iface ?? 'lo',
      filter: options.filter,
      kind: 'demo',
      ...(options.snaplen !== undefined ? { snaplen: options.snaplen } : {}),
      ...(options.bufferSize !== undefined ? { bufferSize: options.bufferSize } : {}),
    });
  }

  get description(): SourceDescription {
    return this.live.description;
  }

  async start(sink: SourceSink): Promise<void> {
    try {
      await this.live.start(sink);
    } catch (err) {
      if (err instanceof DaemonError && err.code === 'permission-denied') {
        throw new DaemonError(
          'permission-denied',
          `--demo captures the simulator's traffic on ${this.options.iface ?? 'lo'}, which needs capture rights: ${PRIVILEGE_HINT}`,
        );
      }
      throw err;
    }
    const log = this.options.logger;
    this.ioc = await startIoc({
      prefix: 'demo:',
      port: this.options.serverPort,
      beaconPort: this.options.repeaterPort,
      rate: 2,
      beaconPeriodMs: 5000,
      log: (event) => log.debug({ component: 'demo-ioc', ...event }, event.msg),
    });
    log.info({ prefix: 'demo:', udpPort: this.ioc.udpPort, tcpPort: this.ioc.tcpPort }, 'demo IOC started');
    this.load = this.runLoads();
  }

  private async runLoads(): Promise<void> {
    const log = this.options.logger;
    while (!this.abort.signal.aborted) {
      try {
        await runLoad({
          prefix: 'demo:',
          serverPort: this.options.serverPort,
          channels: 8,
          monitors: 4,
          opsPerSecond: 4,
          storm: 3,
          durationMs: LOAD_RUN_MS,
          signal: this.abort.signal,
        });
      } catch (err) {
        if (this.abort.signal.aborted) return;
        log.warn({ err: (err as Error).message }, 'demo workload failed; restarting it in 5 s');
        await new Promise((resolve) => setTimeout(resolve, 5000).unref());
      }
    }
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.load?.catch(() => undefined);
    await this.ioc?.stop({ disconnect: true });
    // Let the last goodbyes reach the capture before it closes.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await this.live.stop();
  }

  counters(): CaptureCounters {
    return this.live.counters();
  }
}

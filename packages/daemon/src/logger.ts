import { createRequire } from 'node:module';
import pino, { type Logger } from 'pino';
import type PinoPretty from 'pino-pretty';

/**
 * pino to stderr: human-readable on a terminal, one JSON object per line otherwise (log collectors,
 * containers). stdout stays free for what the daemon is asked to print (the interface list).
 */
export function createLogger(level: string, tty = process.stderr.isTTY === true): Logger {
  const options = { level, base: { name: 'ca-sharkd' } };
  if (tty) {
    // Loaded for a terminal only (a few dozen modules, and no asynchronous import for a synchronous
    // function); daemons under systemd, in containers and in benchmarks log JSON without it.
    const pretty = createRequire(import.meta.url)('pino-pretty') as typeof PinoPretty;
    return pino(
      options,
      pretty({ destination: 2, colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname,name', sync: true }),
    );
  }
  return pino(options, pino.destination({ dest: 2, sync: true }));
}

#!/usr/bin/env node
/**
 * `ca-sharkd`: parses the command line, starts the daemon, and turns every user-fixable failure into one
 * line on stderr with a non-zero exit status.
 */
import { parseCommandLine, USAGE } from './cli.js';
import { DaemonError } from './errors.js';
import { createLogger } from './logger.js';
import { VERSION, startDaemon } from './server.js';

function fail(err: unknown): never {
  if (err instanceof DaemonError) {
    process.stderr.write(`ca-sharkd: ${err.message}\n`);
    process.exit(err.exitStatus);
  }
  process.stderr.write(
    `ca-sharkd: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(70);
}

async function main(): Promise<void> {
  const config = parseCommandLine(process.argv.slice(2));
  if (config.mode === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  if (config.mode === 'version') {
    process.stdout.write(`ca-sharkd ${VERSION}\n`);
    return;
  }
  if (config.mode === 'list-interfaces') {
    // The libpcap addon is loaded for this and for live capture only.
    const { formatInterfaceList, listInterfaces } = await import('@ca-shark/capture');
    const { captureFailure } = await import('./sources/live.js');
    let text: string;
    try {
      text = formatInterfaceList(listInterfaces());
    } catch (err) {
      throw captureFailure(err, 'any');
    }
    process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    return;
  }
  const logger = createLogger(config.logLevel);
  // The handlers come first: installed once startDaemon had returned, a SIGTERM sent as soon as
  // `ca-sharkd serving` was logged (a supervisor waiting for that line) found node's default and killed the
  // daemon without its summary. A signal during start-up shuts it down once it is up (a second one kills).
  let signalled: string | undefined;
  let onSignal = (reason: string): void => {
    signalled ??= reason;
  };
  process.once('SIGINT', () => onSignal('SIGINT'));
  process.once('SIGTERM', () => onSignal('SIGTERM'));
  const daemon = await startDaemon(config, logger);
  const stop = (reason: string): void => {
    daemon.shutdown(reason).then(
      (line) => {
        // An unreadable file or stdin fails the run with ca-shark's words for it, before the summary.
        const failures = daemon.engine.inputFailures;
        for (const failure of failures) process.stderr.write(`ca-sharkd: ${failure.message}\n`);
        process.stderr.write(`${line}\n`);
        process.exit(failures.length > 0 ? failures[0].exitStatus : 0);
      },
      (err: unknown) => fail(err),
    );
  };
  onSignal = stop;
  if (signalled !== undefined) {
    stop(signalled);
    return;
  }
  if (config.exitOnEof) {
    void daemon.engine.whenEnded().then(() => {
      // Connected clients get one batch and one snapshot interval to see the end of the input; with none
      // connected there is nobody to wait for.
      if (daemon.hub.stats().clients === 0) stop('end of input');
      else setTimeout(() => stop('end of input'), 250);
    });
  }
}

main().catch(fail);

#!/usr/bin/env node
// Entry point of the `ca-shark` bin: wires the real process into run().
import { run } from './run.js';

run(process.argv.slice(2), {
  stdin: process.stdin,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // The reader of our output has gone (`ca-shark x.pcapng | head`): end at once, quietly, with success.
  onBrokenPipe: () => process.exit(0),
}).then(
  (status) => {
    process.exitCode = status;
  },
  (e: unknown) => {
    process.stderr.write(`ca-shark: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);

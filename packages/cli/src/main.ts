#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.mmap_threshold=8388608:glibc.malloc.trim_threshold=134217728 node
// Entry point of the `ca-shark` bin: wires the real process into run().
//
// The shebang sets glibc malloc tunables for the process (env -S: coreutils 8.30+, BSD env). Every large
// waveform (a 30,000-element DOUBLE array is 240 KB) gets a buffer of its own; with glibc's defaults such
// a buffer is mmap()ed, or the heap top is trimmed once they are freed, so each new one page-faults its
// memory in again. On realistic.pcap that was half of the page faults and a fifth of the CPU time of
// `stats` (docs/performance.md). Elsewhere (musl, macOS) the variable means nothing. Started as
// `node dist/main.js`, the shebang is not read: set the variable yourself for the same effect.
// It also unsets NODE_EXTRA_CA_CERTS: Node parses those certificates at start-up (about 50 ms of CPU for
// the system bundle, a quarter of `ca-shark --version`), and the CLI makes no TLS connection.
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

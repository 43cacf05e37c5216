#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.mmap_threshold=8388608:glibc.malloc.trim_threshold=134217728 node --max-semi-space-size=8 --heap-growing-percent=100
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
// The V8 flags keep peak memory flat on long captures: V8 grows the young generation to 2 x 16 MB and the
// old one to up to 4x its live size after a few seconds of a busy run, so a 1 GB capture peaked 30-50 %
// above a 100 MB one with the same live data; 2 x 8 MB and twice the live size keep it within 15 %, for no
// CPU cost measurable here (docs/performance.md, "Session 10: memory on long captures").
import { STDIN_FD } from '@ca-shark/packet';
import { run } from './run.js';

run(process.argv.slice(2), {
  // Made only when read through node's stream (run.ts reads a pipe or a redirected file itself): making
  // process.stdin switches a pipe to non-blocking mode.
  get stdin() {
    return process.stdin;
  },
  stdinFd: STDIN_FD,
  stdout: process.stdout,
  stderr: process.stderr,
  env: process.env,
  // The reader of our output has gone (`ca-shark x.pcapng | head`): end at once, quietly, with success.
  onBrokenPipe: () => process.exit(0),
}).then(
  (status) => {
    process.exitCode = status;
    // Everything is written and closed: leave now rather than let node tear the heap down first (it unmaps
    // V8's pages one by one: 20-40 ms of CPU, a tenth of it system time, after a 100 MB capture;
    // docs/performance.md, "Session 15"). Only when both streams hold nothing unwritten: a pipe is written
    // synchronously on Linux, but not everywhere, and process.exit() would cut what is still queued.
    if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
  },
  (e: unknown) => {
    process.stderr.write(`ca-shark: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 70;
  },
);

// The `ca-shark` program wired to the real process: what the bin (dist/main.js, written by
// scripts/bundle.mjs from scripts/bin.mjs) runs. The bin's shebang and its V8 code cache are explained
// there; `run` is exported too, for the build that makes that cache (scripts/code-cache.mjs).
import { STDIN_FD } from '@ca-shark/packet';
import { run } from './run.js';

export { run };

/** Runs `ca-shark` with `argv` (without node and script) on this process's streams, and ends the process. */
export function main(argv: readonly string[]): void {
  run(argv, {
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
      // Everything is written and closed: leave now rather than let node tear the heap down first (it
      // unmaps V8's pages one by one: 20-40 ms of CPU after a 100 MB capture; docs/performance.md,
      // "Session 15"). Only when both streams hold nothing unwritten: a pipe is written synchronously on
      // Linux, but not everywhere, and process.exit() would cut what is still queued.
      if (process.stdout.writableLength === 0 && process.stderr.writableLength === 0) process.exit();
    },
    (e: unknown) => {
      process.stderr.write(`ca-shark: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 70;
    },
  );
}

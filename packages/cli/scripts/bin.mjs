#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS GLIBC_TUNABLES=glibc.malloc.mmap_threshold=8388608:glibc.malloc.trim_threshold=134217728 node --max-semi-space-size=8 --heap-growing-percent=100
// The `ca-shark` bin (dist/main.js, written by scripts/bundle.mjs from scripts/bin.mjs): runs the bundled
// program (dist/cli.cjs, src/program.ts and all it imports) from V8's code cache of it.
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
//
// The code cache: V8 compiles a function to bytecode when it is first called, parsing its source again;
// over a capture's first megabytes that was some 50-60 ms of the main thread's CPU (docs/performance.md,
// "Session 15"). The build runs the program over small captures in every mode and saves V8's code cache
// of what was compiled (scripts/code-cache.mjs); here V8 takes those functions' bytecode from it instead.
// The cache holds for the node that made it and these flags: under another node, or started as `node
// dist/main.js` without the shebang's flags, V8 rejects it and compiles as usual. The program (dist/cli.cjs)
// is a CommonJS module compiled here as node's CommonJS loader would, in its function wrapper, because node
// gives no way to hand V8 a cache for an ES module or a module it loads itself. With source maps on, node
// loads it instead, to map stack traces (vm.Script's are not).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Script } from 'node:vm';

const program = new URL('./cli.cjs', import.meta.url);
const require = createRequire(program);
if (process.sourceMapsEnabled) {
  require(fileURLToPath(program)).main(process.argv.slice(2));
} else {
  /** Named after a hash of cli.cjs by the build: V8 checks only the source's length against a cache. */
  const cache = new URL('./CODE_CACHE_FILE', import.meta.url);
  let cachedData;
  try {
    cachedData = readFileSync(cache);
  } catch {
    // Built without one: compiled as usual.
  }
  const filename = fileURLToPath(program);
  // The same text as the cache was made of (bundle.mjs writes the wrapper's two ends here and there).
  const source = 'WRAPPER_HEAD' + readFileSync(program, 'utf8') + 'WRAPPER_TAIL';
  const module = { exports: {} };
  new Script(source, { filename, cachedData })
    .runInThisContext()
    .call(module.exports, module.exports, require, module, filename, fileURLToPath(new URL('.', program)));
  module.exports.main(process.argv.slice(2));
}

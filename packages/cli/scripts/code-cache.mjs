// Makes the V8 code cache of the bundled program (dist/cli.cjs) for the bin (scripts/bin.mjs): runs the
// program in every mode over small captures, so that the functions a run calls are compiled, then saves
// the cache, which holds their bytecode. Run by bundle.mjs with the bin's node flags (V8 rejects a cache
// made under other flags), with the function wrapper the bin puts around the module (bin.mjs):
//   node FLAGS scripts/code-cache.mjs DIST_DIR CACHE_FILE WRAPPER_HEAD WRAPPER_TAIL
import { readFileSync, rmSync, writeFileSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Script } from 'node:vm';
import { warmUpCapture } from '@ca-shark/decoder';

/** A classic pcap file's header, before its first record. */
const PCAP_HEADER_BYTES = 24;
/** shark()'s WARM_UP_MIN_INPUT (decoder/src/shark.ts): the input size from which it warms the JIT up. */
const WARM_UP_MIN_INPUT = 1 << 20;

const [distDir, cacheFile, head, tail] = process.argv.slice(2);
const dist = pathToFileURL(distDir.endsWith('/') ? distDir : `${distDir}/`);
const program = new URL('cli.cjs', dist);
const filename = fileURLToPath(program);
const script = new Script(head + readFileSync(program, 'utf8') + tail, { filename });
const module = { exports: {} };
script
  .runInThisContext()
  .call(module.exports, module.exports, createRequire(program), module, filename, fileURLToPath(dist));
const { run } = module.exports;

// A real capture of the CA test IOC, one with arrays, and the decoder's own warm-up capture (every common
// path: searches, channels, reads, writes, monitors, large arrays, circuit ends), its records repeated
// past the size from which shark() runs that warm-up itself, so the warm-up's code is in the cache too.
const fixtures = fileURLToPath(new URL('../../packet/fixtures/', import.meta.url));
const tmp = mkdtempSync(join(tmpdir(), 'ca-shark-code-cache-'));
const warmUp = join(tmp, 'warm-up.pcap');
const capture = warmUpCapture();
const records = capture.subarray(PCAP_HEADER_BYTES);
const copies = Math.ceil(WARM_UP_MIN_INPUT / records.length);
writeFileSync(warmUp, Buffer.concat([capture.subarray(0, PCAP_HEADER_BYTES), ...Array(copies).fill(records)]));
const captures = [join(fixtures, 'catest.pcap'), join(fixtures, 'ca_arrays.pcapng'), warmUp];
const sink = () =>
  new Writable({
    write(_chunk, _encoding, done) {
      done();
    },
  });
try {
  for (const mode of [[], ['--json'], ['stats'], ['report']]) {
    const status = await run([...mode, ...captures], { stdin: null, stdout: sink(), stderr: sink(), env: {} });
    // 3: the warm-up capture has damaged traffic on purpose; 2 would be an unreadable capture or bad usage.
    if (status !== 0 && status !== 3)
      throw new Error(`ca-shark ${mode.join(' ')} over the fixtures ended with status ${status}`);
  }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
writeFileSync(new URL(cacheFile, dist), script.createCachedData());

// Joins a library package's modules into one file per entry, over what `tsc -b` emitted in its dist/:
//   node ../../scripts/bundle-library.mjs ENTRY...   (run in the package's directory by its build:extra)
// Each ENTRY is a source file (src/index.ts) whose output (dist/index.js, with its source map) is replaced
// by the bundle. Other workspace packages and Node's own modules stay imports, so each package is still
// loaded once, and a class or error a user imports from @ca-shark/packet is the one the decoder throws.
//
// Why: Node resolves, reads and compiles an ES module graph file by file. Importing @ca-shark/decoder from
// tsc's output (about 50 modules over three packages) took 54-130 ms on the 2-core machine, the same
// packages bundled one file each 31-56 ms; a run of shark() over a capture pays it once
// (docs/performance.md, "Session 16: the library's import"). The CLI and the daemon bundle themselves.
import { build } from 'esbuild';
import { basename } from 'node:path';

const entries = process.argv.slice(2);
if (entries.length === 0) {
  process.stderr.write('usage: bundle-library.mjs ENTRY...\n');
  process.exit(2);
}

for (const entry of entries) {
  await build({
    entryPoints: [entry],
    outfile: `dist/${basename(entry).replace(/\.ts$/, '.js')}`,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    // The workspace's other packages and any npm dependency stay imports: resolved at run time as before.
    packages: 'external',
    // Not minified: stack traces keep the functions' names; the map points at the TypeScript sources.
    sourcemap: 'linked',
    sourcesContent: false,
    logLevel: 'warning',
  });
}

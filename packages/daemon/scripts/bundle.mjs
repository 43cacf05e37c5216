// Bundles the `ca-sharkd` bin and its decoding worker (dist/main.js, dist/engine-worker.js) with what they
// import, workspace packages and node_modules alike, over the files `tsc -b` emitted there. Run by
// `pnpm run build` (build:extra) after tsc, which type-checks; this step only strips types and joins
// modules, as packages/cli/scripts/bundle.mjs does for `ca-shark`.
//
// Why: started from tsc's output, each thread resolved, read and compiled its modules one by one (785
// files between the two, most of them fastify's, ajv's, pino's and the NATS client's) before the first
// frame: about half of the daemon's start-up (docs/performance.md, "Session 12: start-up").
//
// What the daemon imports only when asked (the HTTP server once the worker is on its way, live capture,
// the demo, NATS, the alert webhook) stays behind dynamic imports, which esbuild puts in chunks of their
// own (`dist/bundle-*.js`), read only when a configuration needs them. Every output file lies directly in
// dist/, as tsc's output does, so each `import.meta.url` in the sources (the worker's path beside the
// main thread's, ../package.json, ../schema, the dashboard) points where it did.
//
// @ca-shark/capture stays an import of the built package: it loads the libpcap addon (`cap`) with a
// `require` relative to itself, which from here would not find it (pnpm links `cap` for that package only).
// The bundle is not minified: stack traces keep the functions' names, and `node --enable-source-maps
// dist/main.js` maps them to the TypeScript sources (the .map files).
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));
const outdir = join(root, 'dist');

// Chunks of an earlier build (their names carry a hash of their content).
for (const name of readdirSync(outdir)) {
  if (name.startsWith('bundle-')) rmSync(join(outdir, name));
}

await build({
  absWorkingDir: root,
  entryPoints: ['src/main.ts', 'src/engine-worker.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  chunkNames: 'bundle-[name]-[hash]',
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspace packages' TypeScript sources (their "source" export), so the source map points there.
  conditions: ['source'],
  packages: 'bundle',
  external: ['@ca-shark/capture'],
  // The CommonJS packages (fastify, pino, ajv, ...) call `require` for Node's own modules; an ES module
  // has none of its own.
  banner: {
    js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
  },
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});

// Bundles the `ca-shark` bin, its printing worker and shark()'s packet thread into one ES module each
// (dist/main.js, dist/split-worker.js, dist/shark-thread-worker.js), over the files `tsc -b` emitted
// there. Run by `pnpm run build` (build:extra) after tsc, which type-checks; this step only strips types
// and joins modules.
//
// Why: started from tsc's output, Node resolves, reads and compiles ~75 modules one by one before the
// first record (0.13 s CPU over a bare `node -e 0` on the 2-core machine, a fifth of `ca-shark stats` on a
// 100 MB capture); one file takes half of that (docs/performance.md, "Session 8: startup, stats and
// report"). The bundle is not minified, so stack traces keep the functions' names and each module starts
// with a `// ../analysis/src/x.ts` comment; `node --enable-source-maps dist/main.js` maps them to the
// TypeScript sources (dist/main.js.map).
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));

await build({
  absWorkingDir: root,
  // The workers are more entries: split.ts starts `./split-worker.js` next to the running main.js, and
  // the decoder's shark() (bundled into main.js) its packet thread `./shark-thread-worker.js` there too.
  entryPoints: [
    'src/main.ts',
    'src/split-worker.ts',
    { in: '../decoder/src/shark-thread-worker.ts', out: 'shark-thread-worker' },
  ],
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // The workspace packages' TypeScript sources (their "source" export), so the source map points there.
  conditions: ['source'],
  // Node's own modules and nothing else stay imports; the bin needs no node_modules at run time.
  packages: 'bundle',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
});

// Bundles the `ca-shark` program, its printing worker and shark()'s packet thread, over the files `tsc -b`
// emitted in dist/: dist/cli.cjs (src/program.ts and all it imports, one script), dist/split-worker.js and
// dist/shark-thread-worker.js (ES modules), then writes the bin, dist/main.js (scripts/bin.mjs), and V8's
// code cache of dist/cli.cjs (scripts/code-cache.mjs). Run by `pnpm run build` (build:extra) after tsc,
// which type-checks; this step only strips types and joins modules.
//
// Why: started from tsc's output, Node resolves, reads and compiles ~75 modules one by one before the
// first record (0.13 s CPU over a bare `node -e 0` on the 2-core machine, a fifth of `ca-shark stats` on a
// 100 MB capture); one file takes half of that (docs/performance.md, "Session 8: startup, stats and
// report"). The code cache takes most of the rest of the compiling (bin.mjs; "Session 15"). The bundle is
// not minified, so stack traces keep the functions' names and each module starts with a
// `// ../analysis/src/x.ts` comment; `node --enable-source-maps dist/main.js` maps them to the
// TypeScript sources (dist/cli.cjs.map).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = `${root}dist/`;

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: 'node20',
  // The workspace packages' TypeScript sources (their "source" export), so the source map points there.
  conditions: ['source'],
  // Node's own modules and nothing else stay imports; the bin needs no node_modules at run time.
  packages: 'bundle',
  sourcemap: 'linked',
  sourcesContent: false,
  logLevel: 'warning',
};

// A cache left by an earlier build must never meet another program: V8 would take it if the lengths matched.
for (const f of readdirSync(dist)) if (/^cli-[0-9a-f]+\.cache$/.test(f)) rmSync(dist + f);

// The workers are more entries: split.ts starts `./split-worker.js` next to the running main.js, and
// the decoder's shark() (bundled into cli.cjs) its packet thread `./shark-thread-worker.js` there too.
await build({
  ...common,
  entryPoints: ['src/split-worker.ts', { in: '../decoder/src/shark-thread-worker.ts', out: 'shark-thread-worker' }],
  outdir: 'dist',
  format: 'esm',
});

// The program as one CommonJS module, for vm.Script and its code cache (bin.mjs), with `import.meta.url`
// (the sources find package.json and the workers by it) the URL of cli.cjs itself (same directory as
// main.js). Being a module node can also load, `node --enable-source-maps dist/main.js` runs it through
// `require`, which maps stack traces to the TypeScript sources (dist/cli.cjs.map); vm.Script does not.
await build({
  ...common,
  entryPoints: ['src/program.ts'],
  outfile: 'dist/cli.cjs',
  format: 'cjs',
  define: { 'import.meta.url': '__caSharkUrl' },
  // The directive first, or the banner would make the whole program sloppy-mode code.
  banner: { js: `'use strict';\nconst __caSharkUrl = require('node:url').pathToFileURL(__filename).href;` },
});

const cacheFile = `cli-${createHash('sha256')
  .update(readFileSync(`${dist}cli.cjs`))
  .digest('hex')
  .slice(0, 16)}.cache`;
const bin = readFileSync(`${root}scripts/bin.mjs`, 'utf8');
// node's CommonJS wrapper; the bin and code-cache.mjs must compile the very same text.
const head = '(function (exports, require, module, __filename, __dirname) { ';
const tail = '\n});';
writeFileSync(
  `${dist}main.js`,
  bin
    .replace('./CODE_CACHE_FILE', `./${cacheFile}`)
    .replace("'WRAPPER_HEAD'", JSON.stringify(head))
    .replace("'WRAPPER_TAIL'", JSON.stringify(tail)),
  { mode: 0o755 },
);

// The cache is made under the bin's own node flags (from its shebang), or V8 would reject it there.
const flags = bin.split('\n', 1)[0].split(' node ')[1].trim().split(/\s+/);
execFileSync(process.execPath, [...flags, `${root}scripts/code-cache.mjs`, dist, cacheFile, head, tail], {
  cwd: root,
  stdio: 'inherit',
  env: { ...process.env, NODE_OPTIONS: '' },
});

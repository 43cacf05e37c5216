// ESLint for the whole workspace: `pnpm lint`, run by `pnpm test` before vitest (docs/development.md).
//
// Syntax-only rules: the type-aware typescript-eslint sets (recommendedTypeChecked) took 43 s of CPU and
// 1.3 GB against 15 s and 0.46 GB without them, and over a minute of wall time on the 2-core CI machine;
// `tsc -p tsconfig.test.json` and svelte-check already type-check everything in `pnpm test`.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { defineConfig } from 'eslint/config';

/** Tests, benchmarks and their helpers: everything that no package publishes. */
const TEST_FILES = [
  '**/*.test.ts',
  '**/*.bench.ts',
  '**/test-support/**',
  '**/e2e/**',
  'packages/bench/**',
  'packages/dashboard/bench/**',
];

/**
 * Data flows one way: a stage never imports a later one (house style). `uses` lists the workspace packages
 * a package's published source may import; `typesFrom` those it may import types from only (the dashboard
 * shows the daemon's wire shapes, and type imports never reach the browser bundle). Tests may import anything.
 */
const LAYERS = {
  packet: { uses: [] },
  protocol: { uses: [] },
  capture: { uses: [] },
  decoder: { uses: ['packet', 'protocol'] },
  sim: { uses: ['protocol'] },
  analysis: { uses: ['decoder', 'packet', 'protocol'] },
  cli: { uses: ['analysis', 'decoder', 'packet', 'protocol'] },
  daemon: { uses: ['analysis', 'capture', 'decoder', 'packet', 'protocol', 'sim'] },
  dashboard: { uses: ['analysis'], typesFrom: ['daemon'] },
};
const PACKAGES = [...Object.keys(LAYERS), 'bench'];

export default defineConfig(
  {
    ignores: [
      '**/dist/**',
      '**/node_modules/**',
      '**/test-results/**',
      '**/coverage/**',
      'packages/*/fixtures/**',
      // What tsc run without a project leaves next to the sources (see .gitignore).
      'packages/*/src/**/*.js',
      'packages/*/src/**/*.d.ts',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node } },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // A leading underscore marks a binding kept on purpose (`for await (const _ of ...)`), and
      // destructuring out fields to drop them (`const { p25: _p25, ...rest } = d`) is how we omit keys.
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
          ignoreRestSiblings: true,
        },
      ],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] },
    },
  },
  {
    files: ['packages/dashboard/src/**'],
    languageOptions: { globals: { ...globals.browser } },
    rules: {
      // Every Map/Set the page makes is built whole inside a $derived computation and returned, never
      // mutated afterwards (and the URL only locates the worker script); SvelteMap's per-key signals would
      // be pure cost on tables of thousands of rows.
      'svelte/prefer-svelte-reactivity': 'off',
    },
  },
  // Published source: no `any` (it would leak through the package's types), and the stage order.
  ...Object.entries(LAYERS).map(([pkg, { uses, typesFrom = [] }]) => ({
    files: [`packages/${pkg}/src/**/*.{ts,svelte}`],
    ignores: TEST_FILES,
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          patterns: PACKAGES.filter((p) => p !== pkg && !uses.includes(p)).map((p) => ({
            group: [`@ca-shark/${p}`, `@ca-shark/${p}/*`],
            allowTypeImports: typesFrom.includes(p),
            message: `${pkg} may import ${uses.length ? uses.join(', ') : 'no other workspace package'} (data flows one way).`,
          })),
        },
      ],
    },
  })),
  {
    files: TEST_FILES,
    rules: {
      // Tests write timestamps and values as the exact decimals on the wire (seconds and nanoseconds, a
      // Python repr); that a double rounds them is what they check.
      'no-loss-of-precision': 'off',
      // Tests match terminal colour escapes (ESC, \x1b) on purpose.
      'no-control-regex': 'off',
    },
  },
  {
    // Deliberate: DeframedFrame gets CaFrame's fields by declaration merging so that its constructor can
    // assign them in one order without field initialisers (hot path; see the comment at the class).
    files: ['packages/protocol/src/deframer.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-declaration-merging': 'off',
      '@typescript-eslint/no-empty-object-type': 'off',
    },
  },
);

import { defineConfig } from 'vitest/config';

// One test run for the whole workspace; each package is a project so `--project NAME` runs one.
// The "source" export condition makes workspace packages resolve to their TypeScript sources.
const nodePackages = ['packet', 'protocol', 'decoder', 'analysis', 'cli', 'sim', 'capture', 'daemon', 'bench'];

export default defineConfig({
  test: {
    projects: [
      ...nodePackages.map((name) => ({
        resolve: { conditions: ['source'] },
        ssr: { resolve: { conditions: ['source'] } },
        test: {
          name,
          root: `packages/${name}`,
          include: ['src/**/*.test.ts'],
          environment: 'node',
          // The daemon's ring, history and spool tests are CPU-bound for seconds: vitest's 5 s default is a
          // wall-clock bound that a loaded 2-core run crosses (the held-stats slab test took 6.5 s at load 11).
          ...(name === 'daemon' ? { testTimeout: 30_000 } : {}),
        },
      })),
      'packages/dashboard',
    ],
  },
});

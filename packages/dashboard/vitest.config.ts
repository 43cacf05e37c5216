import { defineProject } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineProject({
  plugins: [svelte()],
  resolve: { conditions: ['source', 'browser'] },
  // Tests run in Node (SSR): read the workspace packages' TypeScript sources there too, not a stale dist.
  ssr: { resolve: { conditions: ['source'] } },
  test: {
    name: 'dashboard',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
  },
});

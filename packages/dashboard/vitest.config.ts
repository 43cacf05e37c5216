import { defineProject } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

export default defineProject({
  plugins: [svelte()],
  resolve: { conditions: ['source', 'browser'] },
  test: {
    name: 'dashboard',
    include: ['src/**/*.test.ts', 'e2e/**/*.test.ts'],
    environment: 'node',
  },
});

import { defineConfig } from 'vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// `pnpm --filter @ca-shark/dashboard dev` serves the page with hot reload and forwards the data
// endpoints to a daemon already running on the default address (override with CA_SHARKD).
const daemon = process.env.CA_SHARKD ?? 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [svelte()],
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: {
    host: '127.0.0.1',
    proxy: {
      '/api': { target: daemon, changeOrigin: true },
      // The daemon refuses cross-origin upgrades; through the proxy the request is same-origin to it.
      '/ws': { target: daemon.replace(/^http/, 'ws'), ws: true, changeOrigin: true, headers: { origin: daemon } },
    },
  },
});

/**
 * Optional vitest globalSetup for the cli project (`globalSetup: 'src/test-support/global-setup.ts'` in
 * the project's config): builds the CLI once before any test file starts, so that the per-file
 * {@link ensureBuilt} calls find the build done.
 */
import { ensureBuilt } from './cli.js';

export default async function setup(): Promise<void> {
  await ensureBuilt();
  process.env['CA_SHARK_CLI_BUILT'] = '1';
}

// Development entry of the printing worker when the CLI runs from its TypeScript sources (tests, tsx):
// workers do not inherit tsx's loader, so register it here. The built CLI starts dist/split-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./split-worker.ts');

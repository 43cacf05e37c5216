// Development entry of the decoding worker when the daemon runs from its TypeScript sources (tests, tsx):
// workers do not inherit tsx's loader, so register it here. The built daemon starts dist/engine-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./engine-worker.ts');

// Development entry of shark()'s packet thread when the decoder runs from its TypeScript sources (tests,
// tsx): workers do not inherit tsx's loader, so register it here. Built code starts shark-thread-worker.js.
import { register } from 'tsx/esm/api';

register();
await import('./shark-thread-worker.ts');

/// <reference lib="webworker" />
/** The page's data worker: see worker-host.ts. */
import { createWorkerHost } from './worker-host.js';
import type { WorkerCommand, WorkerUpdate } from './worker-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handle = createWorkerHost((u: WorkerUpdate) => scope.postMessage(u));
scope.onmessage = (ev: MessageEvent<WorkerCommand>) => handle(ev.data);

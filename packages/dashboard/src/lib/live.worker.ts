/// <reference lib="webworker" />
/** The page's data worker: see worker-host.ts. */
import { createWorkerHost } from './worker-host.js';
import type { WorkerCommand, WorkerMessage } from './worker-protocol.js';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const handle = createWorkerHost((u: WorkerMessage) => scope.postMessage(u));
scope.onmessage = (ev: MessageEvent<WorkerCommand>) => handle(ev.data);

import { parentPort, workerData } from 'node:worker_threads';
import type { LlmwatchConfig } from '../config/index.js';
import { defaultStages } from './pipeline.js';
import { ownMemory, processExport, toWireError, type Signal, type WireEncoding } from './process.js';

/** Worker thread of process-pool.ts: the pipeline with the default stages of the given config. */
interface Job {
  id: number;
  signal: Signal;
  encoding: WireEncoding;
  body: Uint8Array;
  projectId: string;
}

const { config, piiHashKey } = workerData as { config: LlmwatchConfig; piiHashKey: string };
const stages = defaultStages(config, piiHashKey);
const port = parentPort;
if (!port) throw new Error('process-worker must run in a worker thread');

port.on('message', (job: Job) => {
  try {
    const result = processExport(
      job.signal,
      job.encoding,
      job.body,
      job.projectId,
      config.ingest.limits,
      stages,
    );
    // Blocks small enough for Node's shared buffer pool are copied; the others move.
    const transfer = Object.values(result.blocks).flatMap((b) => ownMemory(b.buf));
    port.postMessage({ id: job.id, result }, transfer);
  } catch (error) {
    port.postMessage({ id: job.id, error: toWireError(error) });
  }
});

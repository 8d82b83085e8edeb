import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { LlmwatchConfig } from '../config/index.js';
import { LlmwatchError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { RecordBlocks } from './spool.js';
import {
  fromWireError,
  ownMemory,
  type ExportProcessor,
  type ProcessedExport,
  type Signal,
  type WireEncoding,
  type WireError,
} from './process.js';

/**
 * Decoding and enrichment (PII scan, sketches, serialization) cost far more CPU per span than the
 * HTTP and spool work around them. A pool of worker threads does that part, so the main thread
 * only receives, spools and answers, and the collector uses the cores ClickHouse leaves free.
 */
interface Pending {
  resolve: (result: ProcessedExport) => void;
  reject: (error: Error) => void;
}

interface Slot {
  worker: Worker;
  pending: Map<number, Pending>;
  dead: boolean;
}

/**
 * The pipeline allocates a lot of short-lived objects (decoded spans, content strings, row text).
 * V8's default young generation (16 MiB semi-spaces) fills every few exports and scavenges, and
 * survivors get promoted and marked: garbage collection took a fifth of a worker's time. 64 MiB
 * semi-spaces (a young generation of three of them) let most exports die young:
 * `pnpm bench pipeline-stages` (a whole export in a worker, V8's default against this).
 */
export const WORKER_YOUNG_GENERATION_MB = 192;

// Built code runs the .js worker. From sources (tsx, vitest) the .ts worker is loaded through
// tsx's loader API: Node 20 does not apply `--import tsx` to a worker's entry module.
const fromSource = import.meta.url.endsWith('.ts');
function newWorker(workerData: unknown, youngGenerationMb: number | null): Worker {
  const resourceLimits = youngGenerationMb === null ? {} : { maxYoungGenerationSizeMb: youngGenerationMb };
  if (!fromSource)
    return new Worker(new URL('./process-worker.js', import.meta.url), { workerData, resourceLimits });
  const entry = new URL('./process-worker.ts', import.meta.url).href;
  // require.resolve finds the CommonJS build; the ESM build sits next to it.
  const tsxCjs = createRequire(import.meta.url).resolve('tsx/esm/api');
  const tsx = pathToFileURL(tsxCjs.replace(/\.cjs$/, '.mjs')).href;
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, {
    eval: true,
    workerData,
    resourceLimits,
    execArgv: ['--conditions=@llmwatch/source'],
  });
}

/** `youngGenerationMb`: null keeps V8's default (for the benchmark that compares the two). */
export function workerPool(
  size: number,
  config: LlmwatchConfig,
  piiHashKey: string,
  logger: Logger,
  youngGenerationMb: number | null = WORKER_YOUNG_GENERATION_MB,
): ExportProcessor {
  let nextId = 1;
  let closed = false;
  const slots: Slot[] = [];

  const spawnSlot = (index: number): Slot => {
    const worker = newWorker({ config, piiHashKey }, youngGenerationMb);
    const slot: Slot = { worker, pending: new Map(), dead: false };
    worker.on('message', (msg: { id: number; result?: ProcessedExport; error?: WireError }) => {
      const p = slot.pending.get(msg.id);
      if (!p) return;
      slot.pending.delete(msg.id);
      if (msg.error) p.reject(fromWireError(msg.error));
      else if (msg.result) p.resolve(revive(msg.result));
    });
    const fail = (error: Error): void => {
      if (slot.dead) return;
      slot.dead = true;
      // The exports it held were not acknowledged: the senders retry them.
      const retry = new LlmwatchError('unavailable', 'ingest worker failed; retry later', {
        retryAfterSeconds: 1,
      });
      for (const p of slot.pending.values()) p.reject(retry);
      slot.pending.clear();
      if (!closed) {
        logger.error({ err: { type: error.name } }, 'ingest worker died; restarting it');
        // Jobs go to the other workers meanwhile; a worker that cannot start at all must not
        // turn into a hot respawn loop, so the replacement starts after a pause.
        const replacement = setTimeout(() => {
          if (!closed && slots[index] === slot) slots[index] = spawnSlot(index);
        }, 1_000);
        replacement.unref();
      }
    };
    worker.once('error', fail);
    worker.once('exit', (code) => {
      if (!closed && slots[index] === slot) fail(new Error(`ingest worker exited with code ${code}`));
    });
    return slot;
  };
  for (let i = 0; i < size; i++) slots.push(spawnSlot(i));

  return {
    run(
      signal: Signal,
      encoding: WireEncoding,
      body: Uint8Array,
      projectId: string,
    ): Promise<ProcessedExport> {
      if (closed) return Promise.reject(new Error('ingest workers are closed'));
      // Least busy live worker: exports differ a lot in size.
      let slot: Slot | undefined;
      for (const s of slots) if (!s.dead && (!slot || s.pending.size < slot.pending.size)) slot = s;
      if (!slot) {
        return Promise.reject(
          new LlmwatchError('unavailable', 'ingest workers are restarting; retry later', {
            retryAfterSeconds: 1,
          }),
        );
      }
      const target = slot;
      const id = nextId++;
      return new Promise<ProcessedExport>((resolve, reject) => {
        target.pending.set(id, { resolve, reject });
        target.worker.postMessage({ id, signal, encoding, body, projectId }, ownMemory(body));
      });
    },
    async close(): Promise<void> {
      closed = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
    },
  };
}

/** Row bytes arrive as Uint8Arrays; the spool wants Buffers (same memory, no copy). */
function revive(result: ProcessedExport): ProcessedExport {
  const blocks = {} as RecordBlocks;
  for (const [table, block] of Object.entries(result.blocks) as [
    keyof RecordBlocks,
    RecordBlocks[keyof RecordBlocks],
  ][]) {
    const u8 = block.buf as Uint8Array;
    blocks[table] = { rows: block.rows, buf: Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength) };
  }
  return { ...result, blocks };
}

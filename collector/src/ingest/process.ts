import { LlmwatchError, type ErrorCode } from '../errors.js';
import { decodeJson, decodeProtobuf, type DecodeStats, type RejectReason } from './decode.js';
import { decodeLogs } from './decode-logs.js';
import { decodeMetrics } from './decode-metrics.js';
import type { IngestLimits } from './limits.js';
import { runPipeline, type PipelineResult, type PipelineStages } from './pipeline.js';
import { runLogsPipeline, runMetricsPipeline } from './pipeline-signals.js';
import { ITEM_TABLES } from './rows.js';
import { recordBlocks, type RecordBlocks } from './spool.js';

export type WireEncoding = 'protobuf' | 'json';

/** The OTLP signals llmwatch receives, each on `POST /v1/<signal>`. */
export const SIGNALS = ['traces', 'logs', 'metrics'] as const;
export type Signal = (typeof SIGNALS)[number];

/**
 * One export request, decoded, validated, enriched and serialized: everything CPU-bound between
 * the body and the spool. Runs inline or in a worker thread (process-pool.ts); the result is plain
 * data with the row bytes as buffers, so it crosses threads without copies.
 */
export interface ProcessedExport {
  /** Items accepted: spans, log records or metric data points (what queue limits count). */
  spans: number;
  /** Items rejected (partial_success). */
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  errorMessage: string;
  stats: DecodeStats;
  blocks: RecordBlocks;
  llmCalls: number;
  stageErrors: number;
  /** GenAI events kept for joining to their spans' calls. */
  genaiEvents: number;
}

export function processExport(
  signal: Signal,
  encoding: WireEncoding,
  body: Uint8Array,
  projectId: string,
  limits: IngestLimits,
  stages: PipelineStages,
): ProcessedExport {
  let decoded: Omit<ReturnType<typeof decodeJson>, 'spans'>;
  let result: PipelineResult & { genaiEvents?: number };
  if (signal === 'logs') {
    const logs = decodeLogs(encoding, body, limits);
    decoded = logs;
    result = runLogsPipeline(logs.items, projectId, stages);
  } else if (signal === 'metrics') {
    const metrics = decodeMetrics(encoding, body, limits);
    decoded = metrics;
    result = runMetricsPipeline(metrics.items, projectId);
  } else {
    const traces = encoding === 'protobuf' ? decodeProtobuf(body, limits) : decodeJson(body, limits);
    decoded = traces;
    result = runPipeline(traces.spans, projectId, stages);
  }
  return {
    spans: ITEM_TABLES.reduce((n, t) => n + result.rows[t].length, 0),
    rejected: decoded.rejected,
    rejectedByReason: decoded.rejectedByReason,
    errorMessage: decoded.errorMessage,
    stats: decoded.stats,
    blocks: recordBlocks(result.rows),
    llmCalls: result.llmCalls,
    stageErrors: result.stageErrors,
    genaiEvents: result.genaiEvents ?? 0,
  };
}

/**
 * The memory of `bytes` when they have it all to themselves, to move to another thread instead of
 * copying it there; none for a view into shared memory (Node's buffer pool, a read buffer, a
 * shared empty buffer), which must never be detached. Request bodies going to an ingest worker
 * and row blocks coming back go this way: the thread that let them go then neither copies them nor
 * keeps them as external memory until a full garbage collection (docs/architecture.md, "where the
 * cores go").
 */
export function ownMemory(bytes: Uint8Array): ArrayBuffer[] {
  const memory = bytes.buffer;
  return memory instanceof ArrayBuffer &&
    bytes.byteLength > 0 &&
    bytes.byteOffset === 0 &&
    bytes.byteLength === memory.byteLength
    ? [memory]
    : [];
}

/** Where exports are processed: in the calling thread or in a pool of worker threads. */
export interface ExportProcessor {
  /** May take `body`'s memory (a worker pool moves it to the worker): do not read it afterwards. */
  run(signal: Signal, encoding: WireEncoding, body: Uint8Array, projectId: string): Promise<ProcessedExport>;
  close(): Promise<void>;
}

export function inlineProcessor(limits: IngestLimits, stages: PipelineStages): ExportProcessor {
  return {
    run: (signal, encoding, body, projectId) => {
      try {
        return Promise.resolve(processExport(signal, encoding, body, projectId, limits, stages));
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    },
    close: () => Promise.resolve(),
  };
}

/** An error as it crosses a thread boundary, and back. */
export interface WireError {
  code: ErrorCode;
  message: string;
}

export function toWireError(error: unknown): WireError {
  if (error instanceof LlmwatchError) return { code: error.code, message: error.message };
  return {
    code: 'internal',
    message: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
  };
}

export function fromWireError(error: WireError): LlmwatchError {
  return new LlmwatchError(error.code, error.message);
}

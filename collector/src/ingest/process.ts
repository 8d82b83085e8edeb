import { LlmwatchError, type ErrorCode } from '../errors.js';
import { decodeJson, decodeProtobuf, type DecodeStats, type RejectReason } from './decode.js';
import type { IngestLimits } from './limits.js';
import { runPipeline, type PipelineStages } from './pipeline.js';
import { recordBlocks, type RecordBlocks } from './spool.js';

export type WireEncoding = 'protobuf' | 'json';

/**
 * One export request, decoded, validated, enriched and serialized: everything CPU-bound between
 * the body and the spool. Runs inline or in a worker thread (process-pool.ts); the result is plain
 * data with the row bytes as buffers, so it crosses threads without copies.
 */
export interface ProcessedExport {
  spans: number;
  rejected: number;
  rejectedByReason: Partial<Record<RejectReason, number>>;
  errorMessage: string;
  stats: DecodeStats;
  blocks: RecordBlocks;
  llmCalls: number;
  stageErrors: number;
}

export function processExport(
  encoding: WireEncoding,
  body: Uint8Array,
  projectId: string,
  limits: IngestLimits,
  stages: PipelineStages,
): ProcessedExport {
  const decoded = encoding === 'protobuf' ? decodeProtobuf(body, limits) : decodeJson(body, limits);
  const result = runPipeline(decoded.spans, projectId, stages);
  return {
    spans: decoded.spans.length,
    rejected: decoded.rejected,
    rejectedByReason: decoded.rejectedByReason,
    errorMessage: decoded.errorMessage,
    stats: decoded.stats,
    blocks: recordBlocks(result.rows),
    llmCalls: result.llmCalls,
    stageErrors: result.stageErrors,
  };
}

/** Where exports are processed: in the calling thread or in a pool of worker threads. */
export interface ExportProcessor {
  run(encoding: WireEncoding, body: Uint8Array, projectId: string): Promise<ProcessedExport>;
  close(): Promise<void>;
}

export function inlineProcessor(limits: IngestLimits, stages: PipelineStages): ExportProcessor {
  return {
    run: (encoding, body, projectId) => {
      try {
        return Promise.resolve(processExport(encoding, body, projectId, limits, stages));
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

import { createGunzip, createInflate } from 'node:zlib';
import type { Transform } from 'node:stream';
import type { Request, RequestHandler, Response } from 'express';
import { LlmwatchError } from '../errors.js';
import type { Logger } from '../logging.js';
import { InFlightBytes, type BodyHold, type IngestLimits } from './limits.js';
import type { IngestMetrics } from './metrics.js';
import {
  ExportLogsServiceResponse,
  ExportMetricsServiceResponse,
  ExportTraceServiceResponse,
} from './otlp-proto.js';
import {
  SIGNALS,
  type ExportProcessor,
  type ProcessedExport,
  type Signal,
  type WireEncoding,
} from './process.js';
import type { EventJoiner } from './event-join.js';
import type { Spool } from './spool.js';
import type { IngestWriter } from './writer.js';

/**
 * `POST /v1/traces`, `/v1/logs`, `/v1/metrics`: receive → decode → validate → pipeline → spool
 * (durable) → 2xx. The writer inserts from the spool afterwards; the request never waits for
 * ClickHouse. The three signals share one path, so limits, auth, durability and answers are the
 * same for each.
 */
export interface IngestService {
  limits: IngestLimits;
  /** Decode → validate → pipeline → serialized rows, inline or in worker threads. */
  processor: ExportProcessor;
  spool: Spool;
  writer: IngestWriter;
  metrics: IngestMetrics;
  logger: Logger;
  /** The project a request was authenticated for (the HTTP layer's auth decides it). */
  projectOf(res: Response): string;
  maxBodyBytes: number;
  maxDecompressedBytes: number;
  /** Joins GenAI events (log records) to their spans' calls once both are stored. */
  events: EventJoiner;
}

export type { WireEncoding };

/** Which OTLP encoding a Content-Type names, or undefined for anything else. */
export function wireEncoding(contentType: string | undefined): WireEncoding | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'application/x-protobuf' || type === 'application/protobuf') return 'protobuf';
  if (type === 'application/json') return 'json';
  return undefined;
}

const RETRY_AFTER_SECONDS = 1;

/** One handler per signal; they share the concurrency limit (one decoder budget for all). */
export function createExportHandlers(svc: IngestService): Record<Signal, RequestHandler> {
  const state = {
    inFlight: 0,
    bytes: new InFlightBytes(svc.limits.maxInFlightBytes, svc.metrics.bodyBytes),
  };
  return Object.fromEntries(SIGNALS.map((signal) => [signal, exportHandler(svc, signal, state)])) as Record<
    Signal,
    RequestHandler
  >;
}

function exportHandler(
  svc: IngestService,
  signal: Signal,
  state: { inFlight: number; bytes: InFlightBytes },
): RequestHandler {
  return async (req: Request, res: Response) => {
    const encoding = wireEncoding(req.headers['content-type']);
    if (!encoding) {
      throw new LlmwatchError(
        'unsupported_media_type',
        `Content-Type must be application/x-protobuf or application/json, not ${JSON.stringify(req.headers['content-type'] ?? '')}`,
      );
    }
    // Refuse before reading the body when saturated: cheap for us, and the sender retries later.
    if (state.inFlight >= svc.limits.maxConcurrentRequests || svc.writer.full) {
      svc.metrics.requestsRefused.inc({ reason: svc.writer.full ? 'queue_full' : 'concurrency' });
      throw overloaded(svc.writer.storageHealthy);
    }
    state.inFlight++;
    const hold = state.bytes.hold();
    try {
      await handleExport(svc, signal, req, res, encoding, hold);
    } finally {
      state.inFlight--;
      hold.release();
    }
  };
}

function overloaded(storageHealthy: boolean): LlmwatchError {
  return storageHealthy
    ? new LlmwatchError('overloaded', 'ingest queue is full; retry later', {
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      })
    : new LlmwatchError('unavailable', 'storage is unavailable and the queue is full; retry later', {
        retryAfterSeconds: RETRY_AFTER_SECONDS * 5,
      });
}

async function handleExport(
  svc: IngestService,
  signal: Signal,
  req: Request,
  res: Response,
  encoding: WireEncoding,
  hold: BodyHold,
): Promise<void> {
  const started = performance.now();
  const body = await readBody(
    req,
    svc.maxBodyBytes,
    svc.maxDecompressedBytes,
    svc.limits.bodyTimeoutMs,
    hold,
  );
  const bytes = body.length;
  const decoded = await svc.processor.run(signal, encoding, body, svc.projectOf(res));
  countDecode(svc.metrics, decoded);

  const spans = decoded.spans;
  if (spans > 0) {
    const admission = svc.writer.reserve(spans);
    if (admission !== 'ok') {
      svc.metrics.spansRejected.inc({ reason: admission }, spans);
      throw overloaded(admission === 'overloaded');
    }
    try {
      if (decoded.stageErrors) svc.metrics.stageErrors.inc(decoded.stageErrors);
      await svc.spool.appendBlocks(decoded.blocks);
      svc.metrics.llmCalls.inc(decoded.llmCalls);
      if (decoded.genaiEvents > 0) svc.events.notify();
    } catch (cause) {
      svc.writer.release(spans);
      svc.metrics.spansRejected.inc({ reason: 'spool_error' }, spans);
      throw new LlmwatchError('unavailable', 'could not persist the export; retry later', {
        cause,
        retryAfterSeconds: RETRY_AFTER_SECONDS,
      });
    }
    svc.metrics.spansAccepted.inc({ encoding }, spans);
  }
  svc.metrics.requests.inc({ encoding, status: '200' });
  sendExportResponse(res, signal, encoding, decoded.rejected, decoded.errorMessage);
  if (svc.logger.isLevelEnabled('debug')) {
    svc.logger.debug(
      {
        signal,
        encoding,
        bytes,
        spans,
        rejected: decoded.rejected,
        ms: Math.round(performance.now() - started),
      },
      'export accepted',
    );
  }
}

function countDecode(metrics: IngestMetrics, decoded: ProcessedExport): void {
  for (const [reason, count] of Object.entries(decoded.rejectedByReason))
    metrics.spansRejected.inc({ reason }, count);
  const { droppedAttributes, truncatedValues, droppedEvents, droppedLinks } = decoded.stats;
  if (droppedAttributes) metrics.attributesDropped.inc({ kind: 'attribute' }, droppedAttributes);
  if (truncatedValues) metrics.attributesDropped.inc({ kind: 'truncated_value' }, truncatedValues);
  if (droppedEvents) metrics.attributesDropped.inc({ kind: 'event' }, droppedEvents);
  if (droppedLinks) metrics.attributesDropped.inc({ kind: 'link' }, droppedLinks);
}

/** Export<Signal>ServiceResponse, with partial_success when items were rejected. */
function sendExportResponse(
  res: Response,
  signal: Signal,
  encoding: WireEncoding,
  rejected: number,
  errorMessage: string,
): void {
  const partial = rejected > 0;
  let body: Uint8Array;
  let json: object;
  if (signal === 'logs') {
    const partialSuccess = partial ? { rejectedLogRecords: rejected, errorMessage } : undefined;
    json = partialSuccess ? { partialSuccess } : {};
    body = ExportLogsServiceResponse.encode(ExportLogsServiceResponse.create(json)).finish();
  } else if (signal === 'metrics') {
    const partialSuccess = partial ? { rejectedDataPoints: rejected, errorMessage } : undefined;
    json = partialSuccess ? { partialSuccess } : {};
    body = ExportMetricsServiceResponse.encode(ExportMetricsServiceResponse.create(json)).finish();
  } else {
    const partialSuccess = partial ? { rejectedSpans: rejected, errorMessage } : undefined;
    json = partialSuccess ? { partialSuccess } : {};
    body = ExportTraceServiceResponse.encode(ExportTraceServiceResponse.create(json)).finish();
  }
  if (encoding === 'json') {
    res.status(200).json(json);
    return;
  }
  res.status(200).type('application/x-protobuf').send(Buffer.from(body));
}

/**
 * Reads the body with hard caps on both sides of decompression: the wire size (maxBodyBytes)
 * and the inflated size (maxDecompressedBytes). A gzip bomb is stopped at the cap; the whole
 * thing is never allocated. A body not received within `deadlineMs` fails with 408, so a
 * stalled upload cannot hold its concurrency slot. With a `hold`, every decompressed byte is
 * taken from the collector's in-flight budget first; over it the request gets 429.
 */
export async function readBody(
  req: Request,
  maxBodyBytes: number,
  maxDecompressedBytes: number,
  deadlineMs = Infinity,
  hold?: BodyHold,
): Promise<Buffer> {
  if (!Number.isFinite(deadlineMs)) return readBodyUntimed(req, maxBodyBytes, maxDecompressedBytes, hold);
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LlmwatchError('request_timeout', `request body not received within ${deadlineMs} ms`)),
      deadlineMs,
    );
  });
  try {
    return await Promise.race([readBodyUntimed(req, maxBodyBytes, maxDecompressedBytes, hold), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function readBodyUntimed(
  req: Request,
  maxBodyBytes: number,
  maxDecompressedBytes: number,
  hold: BodyHold | undefined,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBodyBytes)
    throw tooLarge(`body exceeds ${maxBodyBytes} bytes`);
  const contentEncoding = (req.headers['content-encoding'] ?? 'identity').toLowerCase().trim();
  let inflater: Transform | undefined;
  if (contentEncoding === 'gzip' || contentEncoding === 'x-gzip') inflater = createGunzip();
  else if (contentEncoding === 'deflate') inflater = createInflate();
  else if (contentEncoding !== 'identity' && contentEncoding !== '') {
    throw new LlmwatchError(
      'unsupported_media_type',
      `Content-Encoding ${JSON.stringify(contentEncoding)} is not supported (use gzip)`,
    );
  }

  if (!inflater)
    return collect(req, maxBodyBytes, () => tooLarge(`body exceeds ${maxBodyBytes} bytes`), hold);

  const z = inflater;
  let wire = 0;
  let wireError: LlmwatchError | undefined;
  req.on('data', (chunk: Buffer) => {
    wire += chunk.length;
    if (wire > maxBodyBytes && !wireError) {
      wireError = tooLarge(`body exceeds ${maxBodyBytes} bytes`);
      req.unpipe(z);
      z.destroy(wireError);
    }
  });
  req.on('error', (error) => z.destroy(error));
  req.pipe(z);
  try {
    return await collect(
      z,
      maxDecompressedBytes,
      () => tooLarge(`decompressed body exceeds ${maxDecompressedBytes} bytes`),
      hold,
    );
  } catch (error) {
    req.unpipe(z);
    z.destroy();
    if (error instanceof LlmwatchError) throw error;
    throw new LlmwatchError(
      'bad_request',
      `body is not valid ${contentEncoding}: ${(error as Error).message}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Collects a stream up to `max` bytes. Over the cap it stops listening without destroying the
 * stream: destroying the request would reset the socket before the 413 is written.
 */
function collect(
  stream: NodeJS.ReadableStream,
  max: number,
  onTooLarge: () => LlmwatchError,
  hold?: BodyHold,
): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = (): void => {
      stream.removeListener('data', onData);
      stream.removeListener('end', onEnd);
      stream.removeListener('error', onError);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > max) {
        cleanup();
        stream.pause();
        reject(onTooLarge());
        return;
      }
      if (hold && !hold.take(chunk.length)) {
        cleanup();
        stream.pause();
        reject(
          new LlmwatchError(
            'overloaded',
            'too many export bytes in flight (ingest.limits.maxInFlightBytes); retry later',
            {
              retryAfterSeconds: RETRY_AFTER_SECONDS,
            },
          ),
        );
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = (): void => {
      cleanup();
      resolve(chunks.length === 1 && chunks[0] ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    stream.on('data', onData);
    stream.on('end', onEnd);
    stream.on('error', onError);
  });
}

function tooLarge(message: string): LlmwatchError {
  return new LlmwatchError('payload_too_large', message);
}

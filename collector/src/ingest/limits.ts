import { z } from 'zod';
import type { GaugeMetric } from './metrics.js';

/**
 * Per-span decoding limits: what keeps one hostile or buggy span (10k attributes, a 50 MB string,
 * a kvlist nested 10k deep) from taking the collector down. Over a limit, data is truncated or
 * dropped and counted; the span itself is kept.
 */
export const ingestLimitsSchema = z
  .object({
    /** Longest string value (UTF-16 units) kept; longer ones are truncated. @default 65536 */
    maxAttributeValueLength: z
      .number()
      .int()
      .min(16)
      .default(64 * 1024),
    /** Attributes kept per span (and per resource/event/link); the rest are dropped and counted. @default 1024 */
    maxAttributesPerSpan: z.number().int().min(1).default(1024),
    /** Deepest array/kvlist nesting kept; deeper values are dropped and counted. @default 8 */
    maxAttributeDepth: z.number().int().min(1).max(64).default(8),
    /** Values (incl. nested array/kvlist elements) walked per span. @default 10000 */
    maxValuesPerSpan: z.number().int().min(16).default(10_000),
    /** Events kept per span. @default 256 */
    maxEventsPerSpan: z.number().int().min(0).default(256),
    /** Links kept per span. @default 128 */
    maxLinksPerSpan: z.number().int().min(0).default(128),
    /**
     * Export requests decoded at once; more are refused with 429 before their body is read, so
     * an overload queues in the senders' retry loops, not in the collector's memory. @default 16
     */
    maxConcurrentRequests: z.number().int().min(1).default(16),
    /**
     * Export requests of one project in flight at once (body being read, decoded or spooled);
     * more get 429 before their body is read, so one project's slow or stalled uploads cannot
     * take every slot of maxConcurrentRequests from the others. @default 8
     */
    maxConcurrentRequestsPerProject: z.number().int().min(1).default(8),
    /**
     * Longest time to receive a request body; a slower or stalled upload is answered 408 and
     * its connection closed. OTLP exporters time out after 10 s by default. @default 10000
     */
    bodyTimeoutMs: z.number().int().min(100).default(10_000),
    /**
     * After a 413/429/503 answer, up to this many bytes of the unread body are read and
     * discarded, so the sender (whose node:http client is still writing) reads the answer
     * instead of a reset socket; a longer body is cut. @default 134217728 (128 MiB)
     */
    maxDiscardBytes: z
      .number()
      .int()
      .min(0)
      .default(128 * 1024 * 1024),
    /**
     * Decompressed export bytes held at once across all requests and signals, from the first
     * body byte until the answer. Decoding, enrichment and rows take a multiple of the body
     * (docs/operations.md), so this, not the request size, bounds ingest memory. A request that
     * would go over gets 429 (one request alone may use it all, up to maxDecompressedBytes).
     * @default 67108864 (64 MiB, the largest body server.maxDecompressedBytes lets in)
     */
    maxInFlightBytes: z
      .number()
      .int()
      .min(1024 * 1024)
      .default(64 * 1024 * 1024),
  })
  .strict()
  .prefault({});

export type IngestLimits = z.output<typeof ingestLimitsSchema>;
export const DEFAULT_INGEST_LIMITS: IngestLimits = ingestLimitsSchema.parse({});

/**
 * The in-flight byte budget (limits.maxInFlightBytes) shared by the export handlers of one
 * collector. A request takes bytes as its body arrives and gives them all back when answered.
 */
export class InFlightBytes {
  private used = 0;

  /** `inUseGauge`, when given, follows `inUse` (llmwatch_ingest_body_bytes). */
  constructor(
    readonly capacity: number,
    private readonly inUseGauge?: GaugeMetric,
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** One request's share: takes as its body arrives, gives everything back once, when answered. */
  hold(): BodyHold {
    let held = 0;
    let released = false;
    return {
      take: (bytes) => {
        if (released || (this.used + bytes > this.capacity && this.used !== held)) return false;
        this.used += bytes;
        held += bytes;
        this.inUseGauge?.set(this.used);
        return true;
      },
      release: () => {
        if (released) return;
        released = true;
        this.used -= held;
        this.inUseGauge?.set(this.used);
      },
    };
  }
}

export interface BodyHold {
  take(bytes: number): boolean;
  release(): void;
}

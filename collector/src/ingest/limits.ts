import { z } from 'zod';

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
  })
  .strict()
  .prefault({});

export type IngestLimits = z.output<typeof ingestLimitsSchema>;
export const DEFAULT_INGEST_LIMITS: IngestLimits = ingestLimitsSchema.parse({});

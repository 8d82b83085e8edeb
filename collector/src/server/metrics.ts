import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The collector's Prometheus metrics, one registry per collector instance (tests run several in
 * one process). Labels are low-cardinality enums only: never ids, keys, models or text.
 */
export class CollectorMetrics {
  readonly registry = new Registry();

  readonly requests = new Counter({
    name: 'llmwatch_ingest_requests_total',
    help: 'OTLP export requests by wire encoding and HTTP status',
    labelNames: ['encoding', 'status'] as const,
    registers: [this.registry],
  });
  readonly spansAccepted = new Counter({
    name: 'llmwatch_ingest_spans_accepted_total',
    help: 'Spans acknowledged (durable in the spool)',
    labelNames: ['encoding'] as const,
    registers: [this.registry],
  });
  readonly spansRejected = new Counter({
    name: 'llmwatch_ingest_spans_rejected_total',
    help: 'Spans refused, by reason (invalid_* in partial_success; overloaded/unavailable with 429/503)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly requestsRefused = new Counter({
    name: 'llmwatch_ingest_requests_refused_total',
    help: 'Export requests refused with 429/503 before their body was read',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly spansDropped = new Counter({
    name: 'llmwatch_ingest_spans_dropped_total',
    help: 'Acknowledged spans that could not be stored (segment quarantined after repeated refusals)',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  readonly attributesDropped = new Counter({
    name: 'llmwatch_ingest_attributes_dropped_total',
    help: 'Attributes, events or links dropped or truncated by the per-span limits',
    labelNames: ['kind'] as const,
    registers: [this.registry],
  });
  readonly stageErrors = new Counter({
    name: 'llmwatch_ingest_stage_errors_total',
    help: 'Spans whose enrichment failed (stored raw in otel_traces)',
    registers: [this.registry],
  });
  readonly llmCalls = new Counter({
    name: 'llmwatch_ingest_llm_calls_total',
    help: 'LLM calls recognised and normalized',
    registers: [this.registry],
  });
  readonly queueSpans = new Gauge({
    name: 'llmwatch_ingest_queue_spans',
    help: 'Acknowledged spans not yet inserted into ClickHouse',
    registers: [this.registry],
  });
  readonly queueCapacity = new Gauge({
    name: 'llmwatch_ingest_queue_capacity_spans',
    help: 'Queue size above which export requests get 429/503',
    registers: [this.registry],
  });
  readonly spoolBytes = new Gauge({
    name: 'llmwatch_ingest_spool_bytes',
    help: 'Bytes of spool segments on disk',
    registers: [this.registry],
  });
  readonly bodyBytes = new Gauge({
    name: 'llmwatch_ingest_body_bytes',
    help: 'Decompressed export body bytes held in memory while read and processed (ingest.limits.maxInFlightBytes bounds them)',
    registers: [this.registry],
  });
  readonly rowsInserted = new Counter({
    name: 'llmwatch_ingest_rows_inserted_total',
    help: 'Rows inserted into ClickHouse by table',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly rowsDeduplicated = new Counter({
    name: 'llmwatch_ingest_rows_deduplicated_total',
    help: 'Rows not inserted because their span was already stored (a retried export) or repeated in the batch',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly insertErrors = new Counter({
    name: 'llmwatch_ingest_insert_errors_total',
    help: 'Failed insert attempts (retried with backoff)',
    labelNames: ['table'] as const,
    registers: [this.registry],
  });
  readonly insertDuration = new Histogram({
    name: 'llmwatch_ingest_insert_duration_seconds',
    help: 'Duration of one batch insert by table',
    labelNames: ['table'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [this.registry],
  });
  readonly storageUp = new Gauge({
    name: 'llmwatch_storage_up',
    help: '1 when the last insert or ping succeeded',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'llmwatch_' });
  }
}

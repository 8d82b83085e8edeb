/**
 * What ingest counts, as the narrow interface it needs: the collector passes its Prometheus
 * instruments (server/metrics.ts), tests may pass anything with the same shape. Ingest never
 * imports the server's registry.
 */
type Labels = Record<string, string | number>;

export interface CountMetric {
  inc(labels: Labels, value?: number): void;
  inc(value?: number): void;
}

export interface GaugeMetric {
  set(value: number): void;
}

export interface HistogramMetric {
  observe(labels: Labels, value: number): void;
}

export interface IngestMetrics {
  requests: CountMetric;
  requestsRefused: CountMetric;
  spansAccepted: CountMetric;
  spansRejected: CountMetric;
  spansDropped: CountMetric;
  attributesDropped: CountMetric;
  stageErrors: CountMetric;
  llmCalls: CountMetric;
  rowsInserted: CountMetric;
  rowsDeduplicated: CountMetric;
  insertErrors: CountMetric;
  insertDuration: HistogramMetric;
  queueCapacity: GaugeMetric;
  queueSpans: GaugeMetric;
  spoolBytes: GaugeMetric;
  /** Decompressed export bytes held while read and processed (the in-flight budget in use). */
  bodyBytes: GaugeMetric;
  storageUp: GaugeMetric;
}

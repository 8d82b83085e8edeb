import express, { type Express, type RequestHandler } from 'express';
import { createAlertsRouter } from '../api/alerts.js';
import { createAlertDetailRouter } from '../api/alert-detail.js';
import { createCallDetailRouter } from '../api/call-detail.js';
import { createOverviewRouter } from '../api/overview.js';
import { createTracesRouter } from '../api/traces.js';
import { createConsoleRouter } from './console.js';
import { createCallsRouter } from '../api/calls.js';
import { createDetectRouter } from '../api/detect.js';
import { createEvalsRouter } from '../api/evals.js';
import { createGenAiMetricsRouter } from '../api/genai-metrics.js';
import { createCompareRouter } from '../api/compare.js';
import { createDatasetsRouter } from '../api/datasets.js';
import { createRagRouter } from '../api/rag.js';
import { createReportRouter } from '../api/report.js';
import { createScoresRouter } from '../api/scores.js';
import type { Logger } from '../logging.js';
import { createExportHandlers, type IngestService } from '../ingest/receive.js';
import { discardRefusedBodies, ingestAdmission } from './admission.js';
import { authMiddleware, hostAllowList, metricsAccess, type KeyRing } from './auth.js';
import type { AppDeps } from './deps.js';
import { errorMiddleware, notFound } from './errors.js';
import type { CollectorMetrics } from './metrics.js';

export interface Readiness {
  ready: boolean;
  checks: Record<string, boolean>;
}

/** Everything the collector's HTTP app needs; routers only see the AppDeps part. */
export interface CollectorDeps extends AppDeps {
  ingest: IngestService;
  keys: KeyRing;
  metrics: CollectorMetrics;
  logger: Logger;
  readiness: () => Readiness;
}

export function createApp(deps: CollectorDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const hosts = hostAllowList(deps.config.server, deps.keys);
  if (hosts) app.use(hosts);

  // Operations: unauthenticated, cheap, never touch request data.
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const { ready, checks } = deps.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  // Prometheus: behind a key when keys are configured, or only on its own listener.
  if (deps.config.server.metrics.port === undefined)
    app.get('/metrics', metricsAccess(deps.config.server.metrics, deps.keys), serveMetrics(deps));

  // Everything below is scoped to the project of the presented key.
  const auth = authMiddleware(deps.keys);
  app.use('/v1', discardRefusedBodies(deps.ingest.limits));
  app.use('/v1', auth);
  app.use('/v1', ingestAdmission(deps.ingest.limits, deps.metrics));
  app.use('/api', auth);
  // OTLP reads its own body (protobuf or JSON, gzip, hard size caps).
  const otlp = createExportHandlers(deps.ingest);
  app.post('/v1/traces', otlp.traces);
  app.post('/v1/logs', otlp.logs);
  app.post('/v1/metrics', otlp.metrics);
  app.use('/api', express.json({ limit: '4mb' }));
  app.use(createCallsRouter(deps));
  app.use(createScoresRouter(deps));
  app.use(createReportRouter(deps));
  app.use(createDetectRouter(deps));
  app.use(createAlertsRouter(deps));
  app.use(createOverviewRouter(deps));
  app.use(createCallDetailRouter(deps));
  app.use(createTracesRouter(deps));
  app.use(createAlertDetailRouter(deps));
  // The web console's static page and assets: public, it reads data through /api with a key.
  app.use(createConsoleRouter());
  app.use(createEvalsRouter(deps));
  app.use(createCompareRouter(deps));
  app.use(createDatasetsRouter(deps));
  app.use(createRagRouter(deps));
  app.use(createGenAiMetricsRouter(deps));

  app.use(notFound);
  app.use(errorMiddleware(deps.logger, deps.metrics));
  return app;
}

/** GET /metrics alone, for the separate listener of server.metrics.port. */
export function createMetricsApp(deps: CollectorDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/metrics', serveMetrics(deps));
  app.use(notFound);
  app.use(errorMiddleware(deps.logger));
  return app;
}

function serveMetrics(deps: CollectorDeps): RequestHandler {
  return async (_req, res) => {
    deps.metrics.queueSpans.set(deps.ingest.writer.queuedSpans);
    deps.metrics.spoolBytes.set(deps.ingest.spool.bytesOnDisk);
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  };
}

import express, { type Express } from 'express';
import { createAlertsRouter } from '../api/alerts.js';
import { createCallsRouter } from '../api/calls.js';
import { createDetectRouter } from '../api/detect.js';
import { createReportRouter } from '../api/report.js';
import { createScoresRouter } from '../api/scores.js';
import type { Logger } from '../logging.js';
import { createTracesHandler, type IngestService } from '../ingest/receive.js';
import { authMiddleware, type KeyRing } from './auth.js';
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

  // Operations: unauthenticated, cheap, never touch request data.
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const { ready, checks } = deps.readiness();
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', checks });
  });
  app.get('/metrics', async (_req, res) => {
    deps.metrics.queueSpans.set(deps.ingest.writer.queuedSpans);
    deps.metrics.spoolBytes.set(deps.ingest.spool.bytesOnDisk);
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });

  // Everything below is scoped to the project of the presented key.
  const auth = authMiddleware(deps.keys);
  app.use('/v1', auth);
  app.use('/api', auth);
  // OTLP reads its own body (protobuf or JSON, gzip, hard size caps).
  app.post('/v1/traces', createTracesHandler(deps.ingest));
  app.use('/api', express.json({ limit: '4mb' }));
  app.use(createCallsRouter(deps));
  app.use(createScoresRouter(deps));
  app.use(createReportRouter(deps));
  app.use(createDetectRouter(deps));
  app.use(createAlertsRouter(deps));

  app.use(notFound);
  app.use(errorMiddleware(deps.logger, deps.metrics));
  return app;
}

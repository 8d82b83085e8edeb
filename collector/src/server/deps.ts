import type { ClickHouseClient } from '@clickhouse/client';
import type { Response } from 'express';
import type { LlmwatchConfig } from '../config/index.js';

/**
 * What the HTTP routers and background jobs get. Routers are functions of these deps
 * (`createXRouter(deps): Router`), mounted in server/app.ts.
 */
export interface AppDeps {
  config: LlmwatchConfig;
  clickhouse: {
    /** For inserts only: never blocked by slow queries. */
    ingest: ClickHouseClient;
    /** For API, detectors and reports. */
    query: ClickHouseClient;
  };
}

/** The authenticated project of a request (set by the auth middleware). */
export function projectOf(res: Response): string {
  const projectId: unknown = res.locals.projectId;
  if (typeof projectId !== 'string' || projectId === '') throw new Error('auth middleware did not run');
  return projectId;
}

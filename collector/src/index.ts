export {
  parseConfig,
  loadConfigFile,
  type LlmwatchConfig,
  type LlmwatchConfigInput,
} from './config/index.js';
export { openClickHouse, queryRows, type StorageTarget } from './storage/clickhouse.js';
export {
  migrate,
  schemaStatements,
  MIGRATIONS,
  DEFAULT_RETENTION,
  type DdlContext,
} from './storage/migrations/index.js';
export { startCollector, type RunningCollector, type StartOptions } from './server/collector.js';
export { createApp, type CollectorDeps } from './server/app.js';
export type { ApiCall } from './api/calls.js';
export { detectRange, runDetectors, type DetectRequest, type PassRecorder } from './detect/engine.js';
export { alertRecorder } from './alert/index.js';
export type { Detection, DetectionKind, Severity, Subject } from './detect/types.js';

import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { isIP } from 'node:net';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { LlmwatchConfig } from '../config/index.js';
import { alertRecorder, dispatcherFor } from '../alert/index.js';
import { startScheduler } from '../detect/scheduler.js';
import { startEvalScheduler } from '../eval/scheduler.js';
import { LlmwatchError } from '../errors.js';
import { createLogger, type Logger } from '../logging.js';
import { defaultStages, type PipelineStages } from '../ingest/pipeline.js';
import { EventJoiner } from '../ingest/event-join.js';
import { inlineProcessor, type ExportProcessor } from '../ingest/process.js';
import { workerPool } from '../ingest/process-pool.js';
import type { IngestService } from '../ingest/receive.js';
import { Spool } from '../ingest/spool.js';
import { IngestWriter, clickhouseErrorSummary } from '../ingest/writer.js';
import { openClickHouse, type StorageTarget } from '../storage/clickhouse.js';
import {
  adoptLegacyFiles,
  dataDirLayout,
  removeRunningRecord,
  writeRunningRecord,
} from '../storage/data-dir.js';
import { migrate } from '../storage/migrations/index.js';
import { createApp, createMetricsApp, type CollectorDeps } from './app.js';
import { KeyRing } from './auth.js';
import { projectOf } from './deps.js';
import { CollectorMetrics } from './metrics.js';

export interface StartOptions {
  logger?: Logger;
  /** Replace pipeline stages (tests). */
  stages?: PipelineStages;
  /** Longest close() waits for the queue to drain before leaving it to the spool. @default 30000 */
  drainTimeoutMs?: number;
}

export interface RunningCollector {
  url: string;
  host: string;
  port: number;
  deps: CollectorDeps;
  /** The separate /metrics listener (server.metrics.port), when configured. */
  metricsUrl?: string;
  /** Stops accepting, drains the queue, closes the clients. Safe to call twice. */
  close(): Promise<void>;
}

export function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  if (isIP(host) === 6) return host === '::1';
  return false;
}

export function storageTarget(config: LlmwatchConfig): StorageTarget {
  const { storage } = config;
  if (storage.url) {
    return {
      mode: 'server',
      url: storage.url,
      username: storage.username,
      password: storage.password,
      database: storage.database,
      insertGzipLevel: storage.insertGzipLevel,
    };
  }
  return { mode: 'embedded', dataDir: resolve(storage.dataDir) };
}

/** Spool directory: configured, or `spool` inside the data directory (see storage/data-dir.ts). */
export function spoolDirOf(config: LlmwatchConfig): string {
  return resolve(config.ingest.spoolDir ?? dataDirLayout(config.storage.dataDir).spool);
}

/**
 * The key of the PII value hashes (same value → same hash, so leaks can be correlated without
 * storing the value). From LLMWATCH_PII_HASH_KEY (give every collector of a cluster the same
 * one), else a random key created once in the data directory.
 */
export function piiHashKeyOf(config: LlmwatchConfig): string {
  const fromEnv = process.env.LLMWATCH_PII_HASH_KEY;
  if (fromEnv) return fromEnv;
  const file = dataDirLayout(config.storage.dataDir).piiHashKey;
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dirname(file), { recursive: true });
    const key = randomBytes(32).toString('hex');
    try {
      writeFileSync(file, `${key}\n`, { mode: 0o600, flag: 'wx' });
      return key;
    } catch {
      // Another process created it first.
      return readFileSync(file, 'utf8').trim();
    }
  }
}

/**
 * Starts the collector: storage, migrations, spool replay, writer, HTTP. Embedded storage must
 * come up (the schema is local); a ClickHouse server that is down at start-up only delays
 * inserts: exports are accepted into the spool and /readyz says 503 until it answers.
 *
 * Stages, in order: check the listen address → open storage (clients, migrations) → start ingest
 * (spool replay, writer, processor, event joiner) → listen → record the running collector →
 * start the background jobs (detection, evaluation). close() (see shutdown) stops the jobs first
 * and removes the running record last.
 */
export async function startCollector(
  config: LlmwatchConfig,
  options: StartOptions = {},
): Promise<RunningCollector> {
  const keys = new KeyRing(config.projects);
  await checkListenAddress(config, keys);
  const logger = options.logger ?? createLogger(config.logging.level);
  const metrics = new CollectorMetrics();
  const state: StartState = { migrated: false, replayed: false, stopping: false };
  const storage = await openStorage(config, state, logger);
  const ingest = await startIngest(config, options, storage, state, metrics, logger);
  const deps = collectorDeps(config, storage, ingest, keys, metrics, state);
  const { server, metricsServer } = await listen(config, deps, storage);
  const { url, port } = recordRunning(config, keys, storage, server, logger);
  const jobs = await startBackgroundJobs(config, storage, deps);
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= shutdown(config, options, { state, jobs, server, metricsServer, ingest, storage, logger });
    return closing;
  };
  const metricsAddress = metricsServer?.address();
  const metricsUrl =
    typeof metricsAddress === 'object' && metricsAddress
      ? httpUrl(metricsAddress.address, metricsAddress.port)
      : undefined;
  return { url, host: config.server.host, port, deps, close, ...(metricsUrl ? { metricsUrl } : {}) };
}

/** What /readyz reports, set by the stages as they complete (and by close()). */
interface StartState {
  migrated: boolean;
  replayed: boolean;
  stopping: boolean;
}

interface OpenStorage {
  target: StorageTarget;
  ingestClient: ClickHouseClient;
  queryClient: ClickHouseClient;
  /** Every client opened so far, in opening order; close() closes them all. */
  clients: ClickHouseClient[];
  /** Resolves once the schema is migrated (at once for embedded storage). */
  migrated: Promise<void>;
}

interface HttpServers {
  server: Server;
  metricsServer: Server | undefined;
}

interface BackgroundJobs {
  /** Stops detection, then evaluation, each after its running pass. */
  stop(): Promise<void>;
}

/** Refuses an open collector on a public address, and a busy port before anything is created on disk. */
async function checkListenAddress(config: LlmwatchConfig, keys: KeyRing): Promise<void> {
  const { host, port } = config.server;
  if (keys.open && !isLoopback(host)) {
    throw new LlmwatchError(
      'config',
      `server.host: refusing to listen on ${host} without project keys (configure projects[].keys or use 127.0.0.1)`,
    );
  }
  await ensurePortFree(host, port);
}

/**
 * The data directory, the ingest and query clients, and the migrations: awaited for embedded
 * storage; for a ClickHouse server retried in the background until it answers or the collector
 * stops.
 */
async function openStorage(config: LlmwatchConfig, state: StartState, logger: Logger): Promise<OpenStorage> {
  const target = storageTarget(config);
  if (target.mode === 'embedded') mkdirSync(target.dataDir, { recursive: true });
  adoptLegacyFiles(config.storage.dataDir);

  const clients: ClickHouseClient[] = [];
  const ingestClient = await openClickHouse(target, 'ingest');
  clients.push(ingestClient);
  const queryClient = await openClickHouse(target, 'query');
  clients.push(queryClient);

  const retention = {
    retention: config.storage.retentionDays,
    ...(config.storage.cluster
      ? { cluster: config.storage.cluster, distributed: config.storage.distributed }
      : {}),
  };
  const migrateOnce = async (): Promise<void> => {
    await migrate(ingestClient, retention);
    state.migrated = true;
  };
  let migrated: Promise<void>;
  if (target.mode === 'embedded') {
    await migrateOnce();
    migrated = Promise.resolve();
  } else {
    migrated = (async () => {
      for (let wait = 500; !state.stopping; wait = Math.min(wait * 2, 10_000)) {
        try {
          await migrateOnce();
          return;
        } catch (error) {
          logger.warn(
            { err: clickhouseErrorSummary(error), retryInMs: wait },
            'ClickHouse not ready for migrations',
          );
          await new Promise((r) => setTimeout(r, wait).unref());
        }
      }
      throw new LlmwatchError('unavailable', 'stopped before migrations ran');
    })();
    migrated.catch(() => undefined);
  }
  return { target, ingestClient, queryClient, clients, migrated };
}

/**
 * Spool and writer (replaying the spool's leftovers, before taking traffic when storage is
 * local), the export processor (worker threads unless configured or replaced) and the event
 * joiner (resumed once migrated).
 */
async function startIngest(
  config: LlmwatchConfig,
  options: StartOptions,
  storage: OpenStorage,
  state: StartState,
  metrics: CollectorMetrics,
  logger: Logger,
): Promise<IngestService> {
  const { ingestClient, migrated } = storage;
  // The spool hands sealed segments to the writer, which needs the spool: tied through a holder.
  const holder: { writer?: IngestWriter } = {};
  const spool = new Spool({
    dir: spoolDirOf(config),
    maxSegmentSpans: config.ingest.batchMaxRows,
    maxSegmentAgeMs: config.ingest.flushIntervalMs,
    writerBusy: () => holder.writer?.busy ?? false,
    onSealed: (segment) => holder.writer?.enqueue(segment),
    logger,
  });
  const writer = new IngestWriter({
    client: ingestClient,
    spool,
    metrics,
    logger,
    queueMaxSpans: config.ingest.queueMaxSpans,
    ready: migrated,
  });
  holder.writer = writer;
  const leftovers = await spool.start();
  for (const segment of leftovers) writer.enqueueLeftover(segment);
  if (leftovers.length) {
    logger.info(
      { segments: leftovers.length, spans: leftovers.reduce((n, s) => n + s.spans, 0) },
      'replaying spool',
    );
  }
  // Replay before taking traffic when storage is local; a remote server may be down, and then
  // the leftovers simply wait in the queue ahead of new data.
  if (storage.target.mode === 'embedded') await writer.drain();
  state.replayed = true;

  const limits = config.ingest.limits;
  const piiHashKey = piiHashKeyOf(config);
  const workers = config.ingest.workers ?? Math.max(1, availableParallelism() - 1);
  const processor: ExportProcessor = options.stages
    ? inlineProcessor(limits, options.stages)
    : workers > 0
      ? workerPool(workers, config, piiHashKey, logger)
      : inlineProcessor(limits, defaultStages(config, piiHashKey));
  const events = new EventJoiner({
    client: ingestClient,
    logger,
    intervalMs: Math.max(100, config.ingest.flushIntervalMs * 2),
  });
  migrated.then(() => events.resume()).catch(() => undefined);
  return {
    events,
    limits,
    processor,
    spool,
    writer,
    metrics,
    logger,
    projectOf,
    maxBodyBytes: config.server.maxBodyBytes,
    maxDecompressedBytes: config.server.maxDecompressedBytes,
  };
}

function collectorDeps(
  config: LlmwatchConfig,
  storage: OpenStorage,
  ingest: IngestService,
  keys: KeyRing,
  metrics: CollectorMetrics,
  state: StartState,
): CollectorDeps {
  const { writer } = ingest;
  return {
    config,
    clickhouse: { ingest: storage.ingestClient, query: storage.queryClient },
    ingest,
    keys,
    metrics,
    logger: ingest.logger,
    readiness: () => {
      const checks = {
        migrated: state.migrated,
        replayed: state.replayed,
        storage: writer.storageHealthy && state.migrated,
        notOverloaded: !writer.overloaded,
        notStopping: !state.stopping,
      };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  };
}

/**
 * The /metrics listener (when configured), then the main one. When either cannot listen, what
 * ingest and storage opened is released and the error thrown.
 */
async function listen(
  config: LlmwatchConfig,
  deps: CollectorDeps,
  storage: OpenStorage,
): Promise<HttpServers> {
  const { host, port } = config.server;
  const server: Server = createServer(createApp(deps));
  server.keepAliveTimeout = 65_000;
  const metricsListen = config.server.metrics;
  const metricsServer = metricsListen.port === undefined ? undefined : createServer(createMetricsApp(deps));
  try {
    if (metricsServer) await listenOn(metricsServer, metricsListen.host, metricsListen.port ?? 0);
    await listenOn(server, host, port);
  } catch (error) {
    metricsServer?.close();
    // Nothing was accepted yet: leave the spool as it is for the next start.
    const { writer, events, processor, spool } = deps.ingest;
    await writer.shutdown(1_000).catch(() => undefined);
    await events.stop();
    await processor.close().catch(() => undefined);
    await spool.unlock();
    for (const client of storage.clients) await client.close().catch(() => undefined);
    throw error;
  }
  return { server, metricsServer };
}

/** Logs where the collector listens and leaves the running record other commands find it by. */
function recordRunning(
  config: LlmwatchConfig,
  keys: KeyRing,
  storage: OpenStorage,
  server: Server,
  logger: Logger,
): { url: string; port: number } {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.server.port;
  const url = httpUrl(config.server.host, port);
  logger.info(
    {
      url,
      storage: storage.target.mode,
      projects: keys.open ? ['default'] : config.projects.map((p) => p.id),
    },
    'collector listening',
  );
  mkdirSync(config.storage.dataDir, { recursive: true });
  writeRunningRecord(config.storage.dataDir, { pid: process.pid, url });
  return { url, port };
}

/** Detection (with alerting) and scheduled evaluation, on a connection of their own. */
async function startBackgroundJobs(
  config: LlmwatchConfig,
  storage: OpenStorage,
  deps: CollectorDeps,
): Promise<BackgroundJobs> {
  const { logger } = deps;
  // Detection gets its own connection: a long pass never delays API queries or inserts.
  const detectClient = await openClickHouse(storage.target, 'query');
  storage.clients.push(detectClient);
  const scheduler = startScheduler({
    client: detectClient,
    detection: config.detection,
    recorder: alertRecorder({
      client: detectClient,
      alerts: config.alerts,
      dispatcher: dispatcherFor(deps, logger),
      log: logger,
    }),
    log: logger,
  });
  const evalScheduler = startEvalScheduler(detectClient, config.evaluation, logger);
  return {
    stop: async () => {
      await scheduler.stop();
      await evalScheduler.stop();
    },
  };
}

/**
 * Background jobs first, then HTTP stops accepting while the writer drains (up to
 * drainTimeoutMs, the rest stays in the spool), then the event joiner, processor, spool lock and
 * clients, and last the running record.
 */
async function shutdown(
  config: LlmwatchConfig,
  options: StartOptions,
  running: {
    state: StartState;
    jobs: BackgroundJobs;
    ingest: IngestService;
    storage: OpenStorage;
    logger: Logger;
  } & HttpServers,
): Promise<void> {
  const { state, jobs, server, metricsServer, ingest, storage, logger } = running;
  state.stopping = true;
  await jobs.stop();
  const serverClosed = new Promise<void>((r) => server.close(() => r()));
  server.closeIdleConnections();
  metricsServer?.close();
  metricsServer?.closeAllConnections();
  await ingest.writer.shutdown(options.drainTimeoutMs ?? 30_000);
  server.closeAllConnections();
  await serverClosed;
  await ingest.events.stop();
  await ingest.processor.close();
  await ingest.spool.unlock();
  for (const client of storage.clients) await client.close().catch(() => undefined);
  removeRunningRecord(config.storage.dataDir);
  logger.info('collector stopped');
  logger.flush?.();
}

function httpUrl(host: string, port: number): string {
  return `http://${isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      rejectListen(
        new LlmwatchError('config', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
          cause: error,
        }),
      ),
    );
    server.listen(port, host, () => resolveListen());
  });
}

/** Binds and releases `host:port` (0 is always free); the error says which address is taken. */
async function ensurePortFree(host: string, port: number): Promise<void> {
  if (port === 0) return;
  const probe = createServer();
  await new Promise<void>((resolveProbe, rejectProbe) => {
    probe.once('error', (error: NodeJS.ErrnoException) =>
      rejectProbe(
        new LlmwatchError('config', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
          cause: error,
        }),
      ),
    );
    probe.listen(port, host, () => resolveProbe());
  });
  await new Promise<void>((r) => probe.close(() => r()));
}

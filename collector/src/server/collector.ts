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
 */
export async function startCollector(
  config: LlmwatchConfig,
  options: StartOptions = {},
): Promise<RunningCollector> {
  const keys = new KeyRing(config.projects);
  const { host, port } = config.server;
  if (keys.open && !isLoopback(host)) {
    throw new LlmwatchError(
      'config',
      `server.host: refusing to listen on ${host} without project keys (configure projects[].keys or use 127.0.0.1)`,
    );
  }
  // A busy port fails the start before anything is created on disk.
  await ensurePortFree(host, port);
  const logger = options.logger ?? createLogger(config.logging.level);
  const metrics = new CollectorMetrics();
  const target = storageTarget(config);
  if (target.mode === 'embedded') mkdirSync(target.dataDir, { recursive: true });
  adoptLegacyFiles(config.storage.dataDir);

  const clients: ClickHouseClient[] = [];
  const ingestClient = await openClickHouse(target, 'ingest');
  clients.push(ingestClient);
  const queryClient = await openClickHouse(target, 'query');
  clients.push(queryClient);

  const state = { migrated: false, replayed: false, stopping: false };
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

  // The spool hands sealed segments to the writer, which needs the spool: tied through a holder.
  const holder: { writer?: IngestWriter } = {};
  const spool = new Spool({
    dir: spoolDirOf(config),
    maxSegmentSpans: config.ingest.batchMaxRows,
    maxSegmentAgeMs: config.ingest.flushIntervalMs,
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
  if (target.mode === 'embedded') await writer.drain();
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
  const ingest: IngestService = {
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
  const deps: CollectorDeps = {
    config,
    clickhouse: { ingest: ingestClient, query: queryClient },
    ingest,
    keys,
    metrics,
    logger,
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
  const app = createApp(deps);
  const server: Server = createServer(app);
  server.keepAliveTimeout = 65_000;
  const metricsListen = config.server.metrics;
  const metricsServer = metricsListen.port === undefined ? undefined : createServer(createMetricsApp(deps));
  try {
    if (metricsServer) await listenOn(metricsServer, metricsListen.host, metricsListen.port ?? 0);
    await new Promise<void>((resolveListen, rejectListen) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        rejectListen(
          new LlmwatchError('config', `cannot listen on ${host}:${port}: ${error.code ?? error.message}`, {
            cause: error,
          }),
        ),
      );
      server.listen(port, host, () => resolveListen());
    });
  } catch (error) {
    metricsServer?.close();
    // Nothing was accepted yet: leave the spool as it is for the next start.
    await writer.shutdown(1_000).catch(() => undefined);
    await events.stop();
    await processor.close().catch(() => undefined);
    await spool.unlock();
    for (const client of clients) await client.close().catch(() => undefined);
    throw error;
  }
  const address = server.address();
  const boundPort = typeof address === 'object' && address ? address.port : port;
  const url = `http://${isIP(host) === 6 ? `[${host}]` : host}:${boundPort}`;
  logger.info(
    {
      url,
      storage: target.mode,
      projects: keys.open ? ['default'] : config.projects.map((p) => p.id),
    },
    'collector listening',
  );
  mkdirSync(config.storage.dataDir, { recursive: true });
  writeRunningRecord(config.storage.dataDir, { pid: process.pid, url });

  // Detection gets its own connection: a long pass never delays API queries or inserts.
  const detectClient = await openClickHouse(target, 'query');
  clients.push(detectClient);
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

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      state.stopping = true;
      await scheduler.stop();
      await evalScheduler.stop();
      const serverClosed = new Promise<void>((r) => server.close(() => r()));
      server.closeIdleConnections();
      metricsServer?.close();
      metricsServer?.closeAllConnections();
      await writer.shutdown(options.drainTimeoutMs ?? 30_000);
      server.closeAllConnections();
      await serverClosed;
      await events.stop();
      await processor.close();
      await spool.unlock();
      for (const client of clients) await client.close().catch(() => undefined);
      removeRunningRecord(config.storage.dataDir);
      logger.info('collector stopped');
      logger.flush?.();
    })();
    return closing;
  };
  const metricsAddress = metricsServer?.address();
  const metricsUrl =
    typeof metricsAddress === 'object' && metricsAddress
      ? `http://${isIP(metricsAddress.address) === 6 ? `[${metricsAddress.address}]` : metricsAddress.address}:${metricsAddress.port}`
      : undefined;
  return { url, host, port: boundPort, deps, close, ...(metricsUrl ? { metricsUrl } : {}) };
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

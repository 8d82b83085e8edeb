import { spawn, type ChildProcess, type ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseConfig, type LlmwatchConfigInput } from '../src/config/index.js';
import { ExportTraceServiceRequest } from '../src/ingest/otlp-proto.js';
import { createLogger, silentLogger } from '../src/logging.js';
import { startCollector, type RunningCollector, type StartOptions } from '../src/server/collector.js';
import { queryRows } from '../src/storage/clickhouse.js';

/** One temp directory per test file: chDB allows one data directory per process. */
export function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'llmwatch-ingest-'));
}

/** Every collector this file started or spawned, for stopCollectors(). */
const started: RunningCollector[] = [];
const spawned: ChildProcess[] = [];

export async function startTestCollector(
  dir: string,
  overrides: LlmwatchConfigInput = {},
  options: StartOptions = {},
): Promise<RunningCollector> {
  const config = parseConfig({
    ...overrides,
    server: { port: 0, ...overrides.server },
    storage: { dataDir: join(dir, 'data'), ...overrides.storage },
    ingest: { flushIntervalMs: 50, ...overrides.ingest },
    // Scheduled detection is not what these tests are about; it would only add load.
    detection: { enabled: false, ...overrides.detection },
  });
  const collector = await startCollector(config, {
    logger: process.env.LLMWATCH_TEST_LOG ? createLogger('debug') : silentLogger,
    drainTimeoutMs: 5_000,
    ...options,
  });
  started.push(collector);
  return collector;
}

export async function rows<T>(
  collector: RunningCollector,
  sql: string,
  params: Record<string, unknown> = {},
): Promise<T[]> {
  return queryRows<T>(collector.deps.clickhouse.query, sql, params);
}

/** Everything acknowledged so far, inserted. */
export async function flush(collector: RunningCollector): Promise<void> {
  await collector.deps.ingest.writer.flush();
}

export function hex(bytes: number, seed: number): string {
  return seed
    .toString(16)
    .padStart(4, '0')
    .repeat(bytes)
    .slice(0, bytes * 2)
    .replace(/^0+$/, '1'.repeat(bytes * 2));
}

/** Recent enough to survive the tables' TTL. */
export const NOW_NS = BigInt(Date.now() - 60_000) * 1_000_000n;

export interface SimpleSpan {
  traceId: string;
  spanId: string;
  name?: string;
  start?: bigint;
  end?: bigint;
  attributes?: { key: string; value: Record<string, unknown> }[];
}

/** One OTLP export request of `spans` under one resource and scope, ids written by `id`. */
function exportRequest<Id>(spans: SimpleSpan[], service: string, id: (hex: string) => Id) {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: service } }] },
        scopeSpans: [
          {
            scope: { name: 'test-scope', version: '1.0.0' },
            spans: spans.map((s) => ({
              traceId: id(s.traceId),
              spanId: id(s.spanId),
              name: s.name ?? 'span',
              kind: 3,
              startTimeUnixNano: String(s.start ?? NOW_NS),
              endTimeUnixNano: String(s.end ?? NOW_NS + 250_000_000n),
              attributes: s.attributes ?? [],
              status: { code: 1 },
            })),
          },
        ],
      },
    ],
  };
}

/** An OTLP/JSON export with the given spans under one resource and scope. */
export function jsonExport(spans: SimpleSpan[], service = 'svc'): Record<string, unknown> {
  return exportRequest(spans, service, (hex) => hex);
}

/** The same export as protobuf, through the generated OTLP encoder. */
export function protobufExport(spans: SimpleSpan[], service = 'svc'): Buffer {
  const message = exportRequest(spans, service, (hex) => Buffer.from(hex, 'hex'));
  const encoder = ExportTraceServiceRequest as unknown as {
    fromObject(o: unknown): unknown;
    encode(m: unknown): { finish(): Uint8Array };
  };
  return Buffer.from(encoder.encode(encoder.fromObject(message)).finish());
}

/** Spans numbered first..first+count-1: ids are `prefix` then the number in hex, zero-padded. */
export function numberedSpans(prefix: string, count: number, first = 1): SimpleSpan[] {
  return Array.from({ length: count }, (_, i) => {
    const n = (first + i).toString(16);
    return {
      traceId: prefix + n.padStart(32 - prefix.length, '0'),
      spanId: prefix + n.padStart(16 - prefix.length, '0'),
    };
  });
}

export async function post(
  url: string,
  body: string | Buffer,
  headers: Record<string, string>,
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const response = await fetch(`${url}/v1/traces`, { method: 'POST', body, headers });
  return {
    status: response.status,
    headers: response.headers,
    body: Buffer.from(await response.arrayBuffer()),
  };
}

/** POSTs `spans` as an OTLP/protobuf export. */
export function postSpans(
  url: string,
  spans: SimpleSpan[],
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  return post(url, protobufExport(spans), { 'content-type': 'application/x-protobuf' });
}

const REPO = resolve(import.meta.dirname, '../..');

/** `llmwatch <args>` as a child process of the repository's sources. */
function spawnCli(args: string[], env?: NodeJS.ProcessEnv): ChildProcessByStdio<null, Readable, Readable> {
  return spawn(
    process.execPath,
    ['--conditions=@llmwatch/source', '--import', 'tsx', 'collector/src/cli/main.ts', ...args],
    { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env },
  );
}

/**
 * Closes every collector startTestCollector started in this file and SIGKILLs every spawned one
 * still running (call in afterAll, or to release the data directory: chDB opens one per process).
 */
export async function stopCollectors(): Promise<void> {
  for (const proc of spawned.splice(0))
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  for (const collector of started.splice(0)) await collector.close();
}

/**
 * Spawns `llmwatch start --port 0 --data <dir>/data`, with `config` written to
 * `<dir>/llmwatch.config.yaml` and passed when given; resolves with its URL once it prints the
 * listening line, rejects with its stderr if it exits first.
 */
export function spawnCollector(dir: string, config?: string): Promise<{ proc: ChildProcess; url: string }> {
  const args = ['start', '--port', '0', '--data', join(dir, 'data')];
  if (config !== undefined) {
    const configFile = join(dir, 'llmwatch.config.yaml');
    writeFileSync(configFile, config);
    args.push('--config', configFile);
  }
  const proc = spawnCli(args, { ...process.env, NODE_OPTIONS: '' });
  spawned.push(proc);
  return new Promise((resolveStart, rejectStart) => {
    let out = '';
    let err = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match?.[1]) resolveStart({ proc, url: match[1] });
    });
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.once('exit', (code) => rejectStart(new Error(`collector exited with ${code}: ${err.slice(-2000)}`)));
  });
}

/** Runs `llmwatch <args>` to completion. */
export function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnCli(args);
  let stdout = '';
  let stderr = '';
  proc.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolveRun) => proc.once('exit', (code) => resolveRun({ code, stdout, stderr })));
}

export type { ChildProcess };

import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { priceOverridesSchema } from '@llmwatch/core';
import { z } from 'zod';
import { LlmwatchError } from '../errors.js';
import { alertsSchema } from '../alert/config.js';
import { detectionSchema } from '../detect/config.js';
import { piiPolicySchema } from '../enrich/pii.js';
import { evaluationSchema } from '../eval/config.js';
import { attributeAliasesSchema, selfHostedServersSchema } from '../ingest/attributes.js';
import { ingestLimitsSchema } from '../ingest/limits.js';

/**
 * `llmwatch.config.yaml`. Every field has a safe default, so an empty file (or none) is a valid
 * config: one `default` project, embedded ClickHouse under ./.llmwatch/data, loopback only.
 * Sections owned by other parts of the collector (pii, pricing, detection, alerts) are added here
 * by composition, each with its own schema next to the code that uses it.
 */
const retentionSchema = z
  .object({
    traces: z.number().int().min(1).default(30),
    calls: z.number().int().min(1).default(90),
    rollups: z.number().int().min(1).default(400),
    alerts: z.number().int().min(1).default(400),
  })
  .strict()
  .prefault({});

export const serverSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(4318),
    /** Largest accepted request body on the wire (compressed). */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(16 * 1024 * 1024),
    /** Largest body after gzip decompression: the gzip-bomb guard. */
    maxDecompressedBytes: z
      .number()
      .int()
      .positive()
      .default(64 * 1024 * 1024),
    /**
     * Host names served in open mode (no project keys) besides localhost, 127.0.0.1, ::1 and
     * `host`: any other Host header gets 403, so a web page cannot read data through DNS
     * rebinding to the loopback collector. Applies in keyed mode too when not empty.
     */
    allowedHosts: z.array(z.string().min(1)).default([]),
    /** Who may read GET /metrics, and where. See docs/operations.md. */
    metrics: z
      .object({
        /**
         * With project keys configured, /metrics needs `Authorization: Bearer` with a project
         * key or this key (plain or `sha256:<hex>`); without keys it is open like the rest.
         */
        key: z.string().min(8).optional(),
        /** Serve /metrics on its own listener instead of the API port, without auth. */
        port: z.number().int().min(0).max(65535).optional(),
        /** Address of that listener. */
        host: z.string().min(1).default('127.0.0.1'),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({});

export const projectSchema = z
  .object({
    id: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'project id: 1-64 letters, digits, _ . -'),
    /** API keys, either plain or as `sha256:<hex>`; compared as hashes in constant time. */
    keys: z.array(z.string().min(8)).default([]),
  })
  .strict();

export const storageSchema = z
  .object({
    /** Embedded engine data directory (used when `url` is not set). */
    dataDir: z.string().min(1).default('./.llmwatch/data'),
    /** ClickHouse server URL (http(s)://host:8123); switches from embedded to server mode. */
    url: z.url().optional(),
    username: z.string().default('default'),
    password: z.string().default(''),
    database: z.string().default('default'),
    /**
     * gzip level (1-9) of the insert bodies sent to `url`, or 0 to send them uncompressed. Level 1
     * cost the collector ~60% less CPU than zlib's default 6 for ~25% more bytes, and 0 almost
     * nothing, at 5× the bytes (`pnpm bench server-insert`): 0 suits a ClickHouse on the same host
     * or network.
     */
    insertGzipLevel: z.number().int().min(0).max(9).default(1),
    /** Cluster name: DDL runs ON CLUSTER with Replicated engines. */
    cluster: z.string().optional(),
    /**
     * With `cluster`: shard every table (`<table>_local` + Distributed `<table>`); without it the
     * cluster only replicates. See docs/scale-out.md.
     */
    distributed: z.boolean().default(false),
    retentionDays: retentionSchema,
  })
  .strict()
  .prefault({});

export const ingestSchema = z
  .object({
    /**
     * Most spans per spool segment, which is one ClickHouse insert per table. At 10,000 LLM spans
     * per insert the embedded engine spent less CPU per span than at 5,000 in most runs of `pnpm
     * bench ingest` (raw insert by insert shape; fewer parts and span lookups per span). 20,000
     * with a 2 s flush interval cut merges (7–19 CPU µs per span against 19–25) but not the
     * collector's CPU per span or its sustained rate (six runs against five), so it is not the
     * default.
     */
    batchMaxRows: z.number().int().min(1).default(10_000),
    /**
     * Longest a row waits in the open segment before it is inserted while the writer is idle.
     * While the writer is busy the segment keeps filling (up to batchMaxRows): a segment sealed
     * then would only queue behind the writer's, and larger inserts cost the engine less per span.
     */
    flushIntervalMs: z.number().int().min(10).default(1000),
    /** Spans held in memory before the receiver answers 429 (backpressure, not unbounded memory). */
    queueMaxSpans: z.number().int().min(100).default(200_000),
    /** Durable spool for acknowledged-but-not-yet-inserted data; default: <dataDir>/spool. */
    spoolDir: z.string().optional(),
    /** Per-span decoding limits (attribute count, value length, nesting depth). */
    limits: ingestLimitsSchema,
    /** The app's own attribute names for prompt name/version, user, session and tags. */
    attributes: attributeAliasesSchema,
    /** Self-hosted OpenAI-compatible servers (vLLM, TGI, Ollama, LM Studio) and their provider names. */
    selfHosted: selfHostedServersSchema,
    /** Worker threads for decoding and enrichment; 0 runs them on the main thread. Default: cores − 1, at least 1. */
    workers: z.number().int().min(0).max(64).optional(),
  })
  .strict()
  .prefault({});

export const baseConfigSchema = z
  .object({
    server: serverSchema,
    projects: z.array(projectSchema).default([]),
    storage: storageSchema,
    ingest: ingestSchema,
    detection: detectionSchema,
    /** Prices for custom models and corrections of the built-in table (USD per 1M tokens). */
    pricing: priceOverridesSchema,
    /** What ingest does with PII and secrets found in content, per type (default: redact). */
    pii: piiPolicySchema,
    alerts: alertsSchema,
    /** Evaluators that score stored calls, and their scheduled job (docs/evaluation.md). */
    evaluation: evaluationSchema,
    logging: z
      .object({
        level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export const configSchema = baseConfigSchema;
export type LlmwatchConfig = z.output<typeof configSchema>;
export type LlmwatchConfigInput = z.input<typeof configSchema>;

/** Validates a config object; a bad field stops start-up naming its path and why. */
export function parseConfig(input: unknown, source = 'config'): LlmwatchConfig {
  const result = configSchema.safeParse(input ?? {});
  if (!result.success) {
    const issue = result.error.issues[0];
    const path = issue?.path.length ? issue.path.join('.') : '(root)';
    throw new LlmwatchError('config', `${source}: ${path}: ${issue?.message ?? 'invalid'}`);
  }
  return result.data;
}

export function loadConfigFile(file: string): LlmwatchConfig {
  const path = resolve(file);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (cause) {
    throw new LlmwatchError('config', `cannot read config file ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  let data: unknown;
  try {
    data = parseYaml(text);
  } catch (cause) {
    throw new LlmwatchError('config', `${path}: not valid YAML: ${(cause as Error).message}`, { cause });
  }
  return parseConfig(data, path);
}

import { createHash } from 'node:crypto';
import type { ClickHouseClient } from '@clickhouse/client';
import { redactText, type PiiType } from '@llmwatch/core';
import { z } from 'zod';
import { messageText } from '../enrich/features.js';
import { LlmwatchError } from '../errors.js';
import { CALL_SELECTOR, callSelectorWhere } from '../storage/call-selector.js';
import { queryRows } from '../storage/clickhouse.js';

/** Calls read per step: bounds memory whatever the dataset's size. */
const PAGE_SIZE = 2_000;

export const datasetFiltersSchema = z
  .object({
    ...CALL_SELECTOR,
    /** Every named score (evaluator or feedback) must average at least this on the call. */
    minScores: z.record(z.string().min(1), z.number()).default({}),
    /** Every named score must average at most this (e.g. a PII or refusal flag). */
    maxScores: z.record(z.string().min(1), z.number()).default({}),
  })
  .strict()
  .refine((f) => f.to > f.from, { message: 'to: must be after from', path: ['to'] });

export const datasetCreateSchema = z
  .object({
    name: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'name: 1-100 letters, digits, _ . -'),
    filters: datasetFiltersSchema,
    /** Share of items in the validation split, chosen by a hash of the item and the seed. */
    validationShare: z.number().min(0).max(0.5).default(0.1),
    seed: z.number().int().min(0).default(0),
    /** Drop an item whose input sketch has at least this cosine similarity with a kept one. */
    dedupThreshold: z.number().gt(0).max(1).default(0.95),
    /** At most this many items (the oldest calls first). */
    limit: z.number().int().positive().max(10_000_000).optional(),
  })
  .strict();
export type DatasetCreateRequest = z.output<typeof datasetCreateSchema>;

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface DatasetManifest {
  name: string;
  version: number;
  hash: string;
  createdAt: string;
  filters: z.output<typeof datasetFiltersSchema>;
  split: { seed: number; validationShare: number };
  dedupThreshold: number;
  counts: {
    callsMatched: number;
    items: number;
    train: number;
    validation: number;
    exactDuplicates: number;
    nearDuplicates: number;
    /** Calls with no usable user and assistant text. */
    empty: number;
  };
  /** PII values replaced by `[REDACTED:<type>]`, per type. */
  piiRemoved: Partial<Record<PiiType, number>>;
}

interface CallRow {
  traceId: string;
  spanId: string;
  timeNs: string;
  inputContent: string;
  outputContent: string;
  systemContent: string;
  sketch: number[];
}

function callFilter(f: z.output<typeof datasetFiltersSchema>, params: Record<string, unknown>): string {
  const where = [...callSelectorWhere(f, params), "Status != 'error'", "OutputContent != ''"];
  const bounds = [
    ...Object.entries(f.minScores).map(([name, v]) => ({ name, v, op: '>=' })),
    ...Object.entries(f.maxScores).map(([name, v]) => ({ name, v, op: '<=' })),
  ];
  bounds.forEach((b, i) => {
    params[`sName${i}`] = b.name;
    params[`sValue${i}`] = b.v;
    // A span-level score belongs to that call, a trace-level one to every call of the trace.
    where.push(`(SpanId IN (SELECT SpanId FROM scores WHERE ProjectId = {project:String} AND Name = {sName${i}:String} AND SpanId != ''
        GROUP BY SpanId HAVING avg(Value) ${b.op} {sValue${i}:Float64})
      OR TraceId IN (SELECT TraceId FROM scores WHERE ProjectId = {project:String} AND Name = {sName${i}:String} AND SpanId = ''
        GROUP BY TraceId HAVING avg(Value) ${b.op} {sValue${i}:Float64}))`);
  });
  return where.join(' AND ');
}

/** The conversation of a stored call as chat messages: system, the input turns, the answer. */
export function callMessages(
  call: Pick<CallRow, 'inputContent' | 'outputContent' | 'systemContent'>,
): ChatMessage[] {
  const out: ChatMessage[] = [];
  const system = messageText(call.systemContent).trim();
  if (system) out.push({ role: 'system', content: system });
  let turns: unknown;
  try {
    turns = JSON.parse(call.inputContent);
  } catch {
    turns = undefined;
  }
  if (Array.isArray(turns)) {
    for (const turn of turns) {
      const role = (turn as { role?: unknown } | null)?.role;
      if (role !== 'user' && role !== 'assistant' && role !== 'system') continue;
      const text = messageText(JSON.stringify([turn])).trim();
      if (!text) continue;
      if (role === 'system') out.unshift({ role: 'system', content: text });
      else out.push({ role, content: text });
    }
  } else if (call.inputContent.trim())
    out.push({ role: 'user', content: messageText(call.inputContent).trim() });
  const answer = messageText(call.outputContent).trim();
  if (answer) out.push({ role: 'assistant', content: answer });
  return out;
}

/** Deterministic split: the same item and seed land in the same split on every machine. */
export function splitOf(itemId: string, seed: number, validationShare: number): 'train' | 'validation' {
  const h = createHash('sha256').update(`${seed}\n${itemId}`).digest().readUInt32BE(0);
  return h / 0x1_0000_0000 < validationShare ? 'validation' : 'train';
}

/**
 * Near-duplicate index over content sketches (unit vectors, see enrich/features.ts): candidates
 * share one of four 16-bit bands of the sketch's sign pattern (random-hyperplane LSH over the
 * hashed features), then an exact cosine decides. Memory: one Float32Array per kept item.
 */
class NearDuplicates {
  private readonly bands = [
    new Map<number, number[]>(),
    new Map<number, number[]>(),
    new Map<number, number[]>(),
    new Map<number, number[]>(),
  ];
  private readonly kept: Float32Array[] = [];
  constructor(private readonly threshold: number) {}

  /** True (and nothing kept) when `sketch` is a near duplicate of a kept one; else keeps it. */
  seenOrKeep(sketch: readonly number[]): boolean {
    if (sketch.length === 0) return false;
    const keys = [0, 1, 2, 3].map((b) => {
      let key = 0;
      for (let i = 0; i < 16; i++) if ((sketch[b * 16 + i] ?? 0) > 0) key |= 1 << i;
      return key;
    });
    const v = Float32Array.from(sketch);
    const checked = new Set<number>();
    for (let b = 0; b < 4; b++) {
      for (const idx of this.bands[b]!.get(keys[b]!) ?? []) {
        if (checked.has(idx)) continue;
        checked.add(idx);
        const other = this.kept[idx]!;
        let dot = 0;
        for (let i = 0; i < v.length; i++) dot += v[i]! * other[i]!;
        if (dot >= this.threshold) return true;
      }
    }
    const at = this.kept.push(v) - 1;
    keys.forEach((key, b) => {
      const list = this.bands[b]!.get(key);
      if (list) list.push(at);
      else this.bands[b]!.set(key, [at]);
    });
    return false;
  }
}

export interface CreateProgress {
  scanned: number;
  total: number;
  items: number;
}

/**
 * Curates a dataset version from production calls: filter, redact PII with core's detectors,
 * drop exact and near duplicates, split reproducibly, and freeze it under a content hash. If the
 * result is identical to the latest version of that name, no new version is made.
 */
export async function createDataset(
  client: ClickHouseClient,
  project: string,
  req: DatasetCreateRequest,
  onProgress?: (p: CreateProgress) => void,
): Promise<DatasetManifest> {
  const params: Record<string, unknown> = { project };
  const where = callFilter(req.filters, params);
  const [count] = await queryRows<{ n: string }>(
    client,
    `SELECT toString(count()) AS n FROM llm_calls WHERE ${where}`,
    params,
  );
  const total = Math.min(Number(count?.n ?? 0), req.limit ?? Number.POSITIVE_INFINITY);
  const [latest] = await queryRows<{ version: number; hash: string }>(
    client,
    `SELECT max(Version) AS version, argMax(Hash, Version) AS hash FROM datasets FINAL WHERE ProjectId = {project:String} AND Name = {name:String}`,
    { project, name: req.name },
  );
  // Past the highest version that has items too: items of a create that crashed before its
  // manifest was written are never listed, and never mixed into a later version.
  const [written] = await queryRows<{ version: number }>(
    client,
    `SELECT max(Version) AS version FROM dataset_items WHERE ProjectId = {project:String} AND Dataset = {name:String}`,
    { project, name: req.name },
  );
  const version = Math.max(Number(latest?.version ?? 0), Number(written?.version ?? 0)) + 1;

  const counts = {
    callsMatched: 0,
    items: 0,
    train: 0,
    validation: 0,
    exactDuplicates: 0,
    nearDuplicates: 0,
    empty: 0,
  };
  const piiRemoved: Partial<Record<PiiType, number>> = {};
  const seenIds = new Set<string>();
  const near = new NearDuplicates(req.dedupThreshold);
  const digest = createHash('sha256');
  let cursor = { curNs: '0', curSpan: '' };
  let pending: Record<string, unknown>[] = [];
  const flush = async () => {
    if (pending.length)
      await client.insert({ table: 'dataset_items', format: 'JSONEachRow', values: pending });
    pending = [];
  };

  while (counts.callsMatched < total) {
    const calls = await queryRows<CallRow>(
      client,
      `SELECT TraceId AS traceId, SpanId AS spanId, toString(toUnixTimestamp64Nano(Timestamp)) AS timeNs,
         InputContent AS inputContent, OutputContent AS outputContent, SystemContent AS systemContent, InputSketch AS sketch
       FROM llm_calls WHERE ${where} AND (Timestamp, SpanId) > (fromUnixTimestamp64Nano({curNs:Int64}), {curSpan:String})
       ORDER BY Timestamp, SpanId LIMIT {limit:UInt32}`,
      { ...params, ...cursor, limit: Math.min(PAGE_SIZE, total - counts.callsMatched) },
    );
    if (calls.length === 0) break;
    const last = calls[calls.length - 1]!;
    cursor = { curNs: last.timeNs, curSpan: last.spanId };
    for (const call of calls) {
      counts.callsMatched++;
      const messages = callMessages(call).map((m) => {
        const { text, findings } = redactText(m.content);
        for (const f of findings) piiRemoved[f.type] = (piiRemoved[f.type] ?? 0) + 1;
        return { role: m.role, content: text };
      });
      if (!messages.some((m) => m.role === 'user') || messages[messages.length - 1]?.role !== 'assistant') {
        counts.empty++;
        continue;
      }
      const json = JSON.stringify(messages);
      const itemId = createHash('sha256').update(json).digest('hex').slice(0, 32);
      if (seenIds.has(itemId)) {
        counts.exactDuplicates++;
        continue;
      }
      if (near.seenOrKeep(call.sketch)) {
        counts.nearDuplicates++;
        continue;
      }
      seenIds.add(itemId);
      const split = splitOf(itemId, req.seed, req.validationShare);
      counts[split]++;
      digest.update(`${split}\n${itemId}\n`);
      pending.push({
        ProjectId: project,
        Dataset: req.name,
        Version: version,
        Split: split,
        Position: counts.items++,
        ItemId: itemId,
        SourceTraceId: call.traceId,
        SourceSpanId: call.spanId,
        Messages: json,
      });
      if (pending.length >= PAGE_SIZE) await flush();
    }
    onProgress?.({ scanned: counts.callsMatched, total, items: counts.items });
    if (calls.length < PAGE_SIZE) break;
  }
  await flush();

  const hash = `sha256:${digest.digest('hex')}`;
  if (latest && Number(latest.version) > 0 && latest.hash === hash) {
    // Same content as the latest version: keep that one, drop the copy just written.
    await client.command({
      query: `ALTER TABLE dataset_items DELETE WHERE ProjectId = {project:String} AND Dataset = {name:String} AND Version = {version:UInt32}`,
      query_params: { project, name: req.name, version },
    });
    return showDataset(client, project, req.name, Number(latest.version));
  }
  const manifest: DatasetManifest = {
    name: req.name,
    version,
    hash,
    createdAt: new Date().toISOString(),
    filters: req.filters,
    split: { seed: req.seed, validationShare: req.validationShare },
    dedupThreshold: req.dedupThreshold,
    counts,
    piiRemoved,
  };
  await client.insert({
    table: 'datasets',
    format: 'JSONEachRow',
    values: [
      {
        ProjectId: project,
        Name: req.name,
        Version: version,
        Hash: hash,
        Items: counts.items,
        Manifest: JSON.stringify(manifest),
      },
    ],
  });
  return manifest;
}

/** The manifest of one version (the latest when `version` is undefined). */
export async function showDataset(
  client: ClickHouseClient,
  project: string,
  name: string,
  version?: number,
): Promise<DatasetManifest> {
  const rows = await queryRows<{ manifest: string }>(
    client,
    `SELECT Manifest AS manifest FROM datasets FINAL WHERE ProjectId = {project:String} AND Name = {name:String}
       AND ({version:UInt32} = 0 OR Version = {version:UInt32})
     ORDER BY Version DESC LIMIT 1`,
    { project, name, version: version ?? 0 },
  );
  if (!rows[0])
    throw new LlmwatchError(
      'not_found',
      `no dataset ${name}${version !== undefined ? ` version ${version}` : ''}`,
    );
  return JSON.parse(rows[0].manifest) as DatasetManifest;
}

export interface DatasetListing {
  name: string;
  versions: number;
  latestVersion: number;
  latestHash: string;
  items: number;
  createdAt: string;
}

export async function listDatasets(client: ClickHouseClient, project: string): Promise<DatasetListing[]> {
  const rows = await queryRows<DatasetListing>(
    client,
    `SELECT Name AS name, toUInt32(count()) AS versions, max(Version) AS latestVersion, argMax(Hash, Version) AS latestHash,
       argMax(Items, Version) AS items, formatDateTime(max(CreatedAt), '%Y-%m-%dT%H:%i:%SZ', 'UTC') AS createdAt
     FROM datasets FINAL WHERE ProjectId = {project:String} GROUP BY Name ORDER BY Name`,
    { project },
  );
  return rows.map((r) => ({
    ...r,
    versions: Number(r.versions),
    latestVersion: Number(r.latestVersion),
    items: Number(r.items),
  }));
}

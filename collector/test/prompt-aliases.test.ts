import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClickHouseClient } from '@clickhouse/client';
import type { Attributes, DecodedSpan } from '@llmwatch/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../src/config/index.js';
import { decodedSpan } from '../../packages/core/test/decoded-span.js';
import { promptRegressionDetector } from '../src/detect/prompt-regression.js';
import { defaultStages, runPipeline } from '../src/ingest/pipeline.js';
import { recordBlocks } from '../src/ingest/spool.js';
import { insertTableRows } from '../src/ingest/writer.js';
import { openClickHouse } from '../src/storage/clickhouse.js';
import { migrate } from '../src/storage/migrations/index.js';

const HOUR = 3_600_000;

/** How each emitter names the prompt and its version (read from each project's own code and docs). */
const DIALECTS: Record<string, (name: string, version: number) => Attributes> = {
  genai: (n, v) => ({ 'gen_ai.prompt.name': n, 'gen_ai.prompt.version': `v${v}` }),
  openllmetry: (n, v) => ({ 'traceloop.prompt.key': n, 'traceloop.prompt.version': v }),
  openinference: (n, v) => ({
    'openinference.span.kind': 'LLM',
    'prompt.id': n,
    'llm.prompt_template.version': `v${v}`,
  }),
  langfuse: (n, v) => ({
    'langfuse.observation.prompt.name': n,
    'langfuse.observation.prompt.version': v,
  }),
  vercelAi: (n, v) => ({
    'ai.operationId': 'ai.generateText.doGenerate',
    'ai.telemetry.metadata.langfusePrompt': JSON.stringify({ name: n, version: v }),
  }),
  custom: (n, v) => ({ 'app.prompt': n, 'app.prompt.rev': v }),
};

function span(
  i: number,
  startMs: number,
  latencyMs: number,
  outputTokens: number,
  attrs: Attributes,
): DecodedSpan {
  const ns = (ms: number) => (BigInt(Math.round(ms)) * 1_000_000n).toString();
  return decodedSpan({
    traceId: i.toString(16).padStart(32, '0'),
    spanId: i.toString(16).padStart(16, '0'),
    name: 'chat gpt-4o-mini',
    startTimeUnixNano: ns(startMs),
    endTimeUnixNano: ns(startMs + latencyMs),
    attributes: {
      'gen_ai.operation.name': 'chat',
      'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 400,
      'gen_ai.usage.output_tokens': outputTokens,
      ...attrs,
    },
    resource: { 'service.name': 'support-bot' },
  });
}

describe('prompt_regression on every dialect’s prompt attributes', () => {
  let dir: string;
  let client: ClickHouseClient;
  const now = Math.floor(Date.now() / HOUR) * HOUR;
  const window = { fromMs: now - HOUR, toMs: now };
  const config = parseConfig({
    ingest: { attributes: { promptName: ['app.prompt'], promptVersion: ['app.prompt.rev'] } },
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-prompt-aliases-'));
    client = await openClickHouse({ mode: 'embedded', dataDir: dir }, 'admin');
    await migrate(client);
    const stages = defaultStages(config, 'test-key');
    let i = 1;
    for (const [dialect, attrs] of Object.entries(DIALECTS)) {
      const spans: DecodedSpan[] = [];
      // Version 1 for two days, version 2 from 90 minutes ago: twice the output and slower.
      for (let t = now - 48 * HOUR; t < now - 1.5 * HOUR; t += 10 * 60_000)
        spans.push(span(i++, t, 800 + (i % 7) * 40, 200 + (i % 11) * 5, attrs('support', 1)));
      for (let t = now - 1.5 * HOUR; t < now; t += 60_000)
        spans.push(span(i++, t, 1800 + (i % 7) * 40, 480 + (i % 11) * 5, attrs('support', 2)));
      const { rows } = runPipeline(spans, dialect, stages);
      expect(rows.llm_calls).toHaveLength(spans.length);
      await insertTableRows(client, 'llm_calls', recordBlocks(rows).llm_calls.buf);
    }
  });

  afterAll(async () => {
    await client?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it.each(Object.keys(DIALECTS))('%s: a worse new version is found', async (dialect) => {
    const found = await promptRegressionDetector.run({
      client,
      config: config.detection,
      window,
      project: dialect,
    });
    expect(found).toHaveLength(1);
    expect(found[0]!.subject).toMatchObject({ promptName: 'support' });
    expect(found[0]!.subject.promptVersion).toMatch(/^v?2$/);
    expect((found[0]!.evidence.worse as Array<{ metric: string }>).map((f) => f.metric)).toEqual(
      expect.arrayContaining(['latency_ms', 'output_tokens']),
    );
  });
});

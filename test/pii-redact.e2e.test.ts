import { spawn, type ChildProcess } from 'node:child_process';
import {
  createWriteStream,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openClickHouse, queryRows } from '@llmwatch/collector';
import { SpanStatusCode } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitForCalls } from './helpers/collector.js';

/**
 * Issue 6, "done when": spans full of PII, in several instrumentation dialects, go through the
 * real OTLP/protobuf exporter to the real `llmwatch start` process under the default policy
 * (redact). Afterwards no raw value is found anywhere: not in any table (dumped through SQL, so
 * compression cannot hide a value), not in any file under the data and spool directories, not in
 * the collector's logs (run at trace level).
 */

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const RAW = {
  email: 'maria.lopez@example.org',
  phone: '+44 20 7946 0958',
  card: '4539 1488 0343 6467',
  ssn: '219-09-9999',
  iban: 'DE89 3704 0044 0532 0130 00',
  ip: '203.0.113.77',
  openai: 'sk-proj-Zq8Yx7Wv6Ut5Sr4Qp3On2Ml1Kj0Ih9Gf8Ed7Cb6',
  aws: 'AKIAZ7Q3R5T2W4Y6U8I2',
  password: 'Tr0ub4dor&3xyz',
};
/** Ordinary content that must survive, proving the dump reaches the content columns. */
const MARKER = 'zebra-marker-content-42';

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    const st = statSync(p);
    if (st.isDirectory()) out.push(...filesUnder(p));
    else if (st.isFile()) out.push(p);
  }
  return out;
}

describe('PII redact policy end to end (OTLP → llmwatch start → embedded ClickHouse)', () => {
  let dir: string;
  let child: ChildProcess;
  let url: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'llmwatch-pii-'));
    const config = join(dir, 'llmwatch.config.yaml');
    // No pii section: the default policy must already keep raw PII off disk.
    writeFileSync(config, 'logging:\n  level: trace\ningest:\n  flushIntervalMs: 50\n');
    const log = createWriteStream(join(dir, 'collector.log'));
    child = spawn(
      process.execPath,
      [
        '--conditions=@llmwatch/source',
        '--import',
        'tsx',
        'collector/src/cli/main.ts',
        'start',
        '--port',
        '0',
        '--data',
        join(dir, 'data'),
        '--config',
        config,
      ],
      { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr!.pipe(log);
    url = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout!.on('data', (c: Buffer) => {
        out += c.toString();
        log.write(c);
        const m = /listening on (\S+)/.exec(out);
        if (m) res(m[1]!);
      });
      child.once('exit', (code) => rej(new Error(`collector exited ${code}`)));
    });

    const provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'pii-e2e' }),
      spanProcessors: [
        new BatchSpanProcessor(new OTLPTraceExporter({ url: `${url}/v1/traces` }), {
          scheduledDelayMillis: 20,
        }),
      ],
    });
    const tracer = provider.getTracer('pii-e2e');
    const prompt = `Hi, I am ${RAW.email}, phone ${RAW.phone}. Card ${RAW.card}, SSN ${RAW.ssn}. ${MARKER}`;
    const answer = `Refund to IBAN ${RAW.iban}; your login came from ${RAW.ip}.`;

    // GenAI semconv (current): messages as JSON attributes, plus a content event.
    const genai = tracer.startSpan('chat gpt-4o-mini', {
      attributes: {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': 'gpt-4o-mini',
        'gen_ai.usage.input_tokens': 40,
        'gen_ai.usage.output_tokens': 20,
        'gen_ai.input.messages': JSON.stringify([
          { role: 'user', parts: [{ type: 'text', content: prompt }] },
        ]),
        'gen_ai.output.messages': JSON.stringify([
          { role: 'assistant', parts: [{ type: 'text', content: answer }] },
        ]),
        'gen_ai.system_instructions': JSON.stringify([
          { type: 'text', content: `Use key ${RAW.openai} for tools.` },
        ]),
        'user.id': RAW.email,
      },
    });
    genai.addEvent('gen_ai.user.message', { content: `again: ${RAW.card}` });
    genai.end();

    // OpenLLMetry.
    const openllmetry = tracer.startSpan('openai.chat', {
      attributes: {
        'gen_ai.system': 'openai',
        'gen_ai.request.model': 'gpt-4o',
        'llm.request.type': 'chat',
        'gen_ai.usage.prompt_tokens': 30,
        'gen_ai.usage.completion_tokens': 10,
        'gen_ai.prompt.0.role': 'user',
        'gen_ai.prompt.0.content': `export AWS_ACCESS_KEY_ID=${RAW.aws} and DB_PASSWORD=${RAW.password}`,
        'gen_ai.completion.0.role': 'assistant',
        'gen_ai.completion.0.content': `Never share ${RAW.aws}.`,
      },
    });
    openllmetry.end();

    // OpenInference.
    const openinference = tracer.startSpan('ChatCompletion', {
      attributes: {
        'openinference.span.kind': 'LLM',
        'llm.model_name': 'gpt-4o-mini',
        'llm.provider': 'openai',
        'llm.token_count.prompt': 12,
        'llm.token_count.completion': 8,
        'input.value': JSON.stringify({ messages: [{ role: 'user', content: prompt }] }),
        'llm.input_messages.0.message.role': 'user',
        'llm.input_messages.0.message.content': prompt,
        'llm.output_messages.0.message.content': answer,
        'output.value': answer,
      },
    });
    openinference.end();

    // Not an LLM span: an HTTP handler that failed with PII in its status and attributes.
    const http = tracer.startSpan(`POST /signup/${RAW.email}`, {
      attributes: {
        'http.request.method': 'POST',
        'url.full': `https://app.example/signup?email=${RAW.email}`,
        'client.address': RAW.ip,
      },
    });
    http.setStatus({ code: SpanStatusCode.ERROR, message: `duplicate account ${RAW.email} / ${RAW.phone}` });
    http.end();

    await provider.forceFlush();
    await provider.shutdown();

    await waitForCalls(url, 3, '', 30_000);
    // Stop the collector: everything acknowledged is flushed to ClickHouse first.
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    // stderr's end already ended the log stream through pipe().
    if (!log.closed) await new Promise<void>((r) => log.once('close', () => r()));
  }, 120_000);

  afterAll(() => {
    if (child && child.exitCode === null) child.kill('SIGKILL');
    if (dir && !process.env.KEEP_PII_E2E) rmSync(dir, { recursive: true, force: true });
  });

  it('no raw value in any table, any file under the data/spool directories, or the logs', async () => {
    // Every table, dumped through SQL (compressed parts cannot hide a value from this).
    const ch = await openClickHouse({ mode: 'embedded', dataDir: join(dir, 'data') }, 'query');
    let dump = '';
    const findings: Array<{ Type: string; Place: string; Action: string; Count: number; ValueHash: string }> =
      [];
    try {
      const tables = await queryRows<{ name: string }>(
        ch,
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine NOT IN ('MaterializedView', 'View') ORDER BY name",
        {},
      );
      expect(tables.map((t) => t.name)).toEqual(
        expect.arrayContaining(['llm_calls', 'otel_traces', 'pii_findings']),
      );
      for (const { name } of tables) {
        const rows = await queryRows<Record<string, unknown>>(ch, `SELECT * FROM ${name}`, {});
        dump += `${name}\n${JSON.stringify(rows)}\n`;
      }
      findings.push(
        ...(await queryRows<(typeof findings)[number]>(
          ch,
          'SELECT Type, Place, Action, Count, ValueHash FROM pii_findings ORDER BY Type, Place',
          {},
        )),
      );
    } finally {
      await ch.close();
    }
    expect(dump).toContain(MARKER);
    expect(dump).toContain('[REDACTED:email]');

    const files = filesUnder(dir);
    expect(files.some((f) => f.endsWith('collector.log'))).toBe(true);
    const blobs = files.map((f) => ({ f, text: readFileSync(f).toString('latin1') }));
    for (const [kind, raw] of Object.entries(RAW)) {
      expect(dump.includes(raw), `${kind} in a table`).toBe(false);
      for (const { f, text } of blobs) expect(text.includes(raw), `${kind} in ${f}`).toBe(false);
    }

    // Findings are summaries: type, place, redact, and a 32-hex keyed hash, never the value.
    expect(new Set(findings.map((f) => f.Type))).toEqual(
      new Set(['email', 'phone', 'credit_card', 'us_ssn', 'iban', 'ip_address', 'secret']),
    );
    for (const f of findings) {
      expect(f.Action).toBe('redact');
      expect(f.ValueHash).toMatch(/^[0-9a-f]{32}$/);
    }
    // The same email in three spans hashes to one value: trackable across calls.
    const emailHashes = new Set(findings.filter((f) => f.Type === 'email').map((f) => f.ValueHash));
    expect(emailHashes.size).toBe(1);
  });
});

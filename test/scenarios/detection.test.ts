import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows, type RunningCollector } from '@llmwatch/collector';
import { startE2eCollector, type E2eCollector } from '../helpers/collector.js';
import { sendCalls } from './send.js';
import { DAY, buildScenario, type Kind, type Scenario } from './traffic.js';

/**
 * The detection scenario suite: five days of backdated traffic with a ±50% daily load cycle go
 * through the real OTel SDK and OTLP exporter into a real collector and embedded ClickHouse; then
 * `POST /api/detect` backtests the last two days hour by hour. Every injected incident must be
 * caught by its kind of detector, and no control window (nothing injected) may alert.
 */
interface Detection {
  id: string;
  kind: Kind;
  status: 'firing' | 'resolved';
  severity: string;
  rule: string;
  subject: Record<string, string>;
  window: { from: string; to: string };
  message: string;
  evidence: Record<string, unknown>;
}

const KINDS: Kind[] = [
  'cost_spike',
  'latency_regression',
  'error_rate',
  'drift',
  'prompt_regression',
  'pii_leak',
];

describe('detection scenarios through the real OTLP path', () => {
  let e2e: E2eCollector;
  let collector: RunningCollector;
  let scenario: Scenario;
  let detections: Detection[] = [];

  beforeAll(async () => {
    e2e = await startE2eCollector('scenarios', {
      ingest: { flushIntervalMs: 100 },
      logging: { level: 'warn' },
      detection: { enabled: false },
    });
    collector = e2e.collector;
    // Midnight UTC: incidents land on the same hours of the daily cycle whenever the suite runs.
    const endMs = Math.floor(Date.now() / DAY) * DAY;
    scenario = buildScenario(endMs, Number(process.env.LLMWATCH_SCENARIO_SEED ?? 7));
    const started = Date.now();
    const traceIds = await sendCalls(collector.url, scenario.calls);
    const scores = scenario.calls.flatMap((c, i) =>
      c.score ? [{ traceId: traceIds[i]!, name: c.score.name, value: c.score.value, source: 'eval' }] : [],
    );
    const res = await fetch(`${collector.url}/api/scores`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(scores),
    });
    expect(res.status).toBeLessThan(300);
    for (;;) {
      const [row] = await queryRows<{ n: number }>(
        collector.deps.clickhouse.query,
        'SELECT toUInt32(count()) AS n FROM llm_calls',
      );
      if (Number(row?.n) >= scenario.calls.length) break;
      if (Date.now() - started > 90_000)
        throw new Error(`only ${row?.n} of ${scenario.calls.length} calls stored`);
      await new Promise((r) => setTimeout(r, 200));
    }
    process.stderr.write(
      `scenarios: ${scenario.calls.length} calls through OTLP in ${Date.now() - started} ms\n`,
    );

    const detectStarted = Date.now();
    const detect = await fetch(`${collector.url}/api/detect`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ from: scenario.startMs + 3 * DAY, to: scenario.endMs }),
    });
    const body = (await detect.json()) as { detections: Detection[] };
    expect(detect.status).toBe(200);
    detections = body.detections;
    process.stderr.write(`scenarios: 48 hourly passes in ${Date.now() - detectStarted} ms\n`);
  }, 240_000);

  afterAll(async () => {
    await e2e?.close();
  });

  const overlaps = (d: Detection, from: number, to: number) =>
    Date.parse(d.window.from) < to && Date.parse(d.window.to) > from;

  it('catches every injected incident with its kind of detector, and nothing fires in control windows', () => {
    const firing = detections.filter((d) => d.status === 'firing');
    const recall = KINDS.map((kind) => {
      const incidents = scenario.incidents.filter((i) => i.kind === kind);
      const caught = incidents.filter((i) =>
        firing.some((d) => d.kind === kind && overlaps(d, i.fromMs, i.toMs)),
      );
      return {
        kind,
        incidents: incidents.length,
        caught: caught.length,
        missed: incidents.filter((i) => !caught.includes(i)).map((i) => i.name),
      };
    });
    const falseAlerts = firing.filter((d) =>
      scenario.controlWindows.some(
        (w) => Date.parse(d.window.from) >= w.fromMs && Date.parse(d.window.to) <= w.toMs,
      ),
    );
    const lines = [
      '| kind | incidents | caught | recall |',
      '|---|---|---|---|',
      ...recall.map(
        (r) =>
          `| ${r.kind} | ${r.incidents} | ${r.caught} | ${r.incidents ? ((100 * r.caught) / r.incidents).toFixed(0) : '-'}% |`,
      ),
      `false alerts in ${scenario.controlWindows.length} control windows: ${falseAlerts.length}`,
      ...falseAlerts.map(
        (d) => `  FALSE ${d.window.from} ${d.rule} ${JSON.stringify(d.subject)}: ${d.message}`,
      ),
      ...firing
        .filter((d) => !falseAlerts.includes(d))
        .map(
          (d) =>
            `  ${d.window.from.slice(11, 16)} ${d.severity.padEnd(8)} ${d.rule} ${JSON.stringify(d.subject)}: ${d.message}`,
        ),
    ];
    process.stderr.write(`${lines.join('\n')}\n`);
    expect(recall.filter((r) => r.caught < r.incidents)).toEqual([]);
    expect(falseAlerts.map((d) => `${d.window.from} ${d.rule} ${d.message}`)).toEqual([]);
  });

  it('resolves alerts once their incident is over', () => {
    const resolved = detections.filter((d) => d.status === 'resolved');
    for (const kind of KINDS) {
      const i = scenario.incidents.find((x) => x.kind === kind)!;
      expect(
        resolved.some((d) => d.kind === kind && Date.parse(d.window.from) >= i.toMs),
        kind,
      ).toBe(true);
    }
  });

  it('names what changed: dominant error type, terms of the semantic drift, leaked types, outlier call', () => {
    const byRule = (rule: string) => detections.find((d) => d.status === 'firing' && d.rule === rule);
    expect(byRule('error_rate.model')?.evidence.dominantErrorType).toBe('RateLimitError');
    expect(byRule('error_rate.model')?.subject).toEqual({ provider: 'openai', model: 'gpt-4o-mini' });
    const semantic = byRule('drift.input_semantic');
    expect(semantic?.subject.promptName).toBe('support-answer');
    expect(JSON.stringify(semantic?.evidence.termsRising)).toContain('crypto');
    const topTerm = (semantic?.evidence.termsRising as Array<{ term: string }>)[0]!.term;
    const examples = semantic?.evidence.examples as string[];
    expect(examples.length).toBeGreaterThan(0);
    for (const e of examples) expect(e.toLowerCase()).toContain(topTerm);
    expect(byRule('pii_leak.exposure')?.severity).toBe('critical');
    expect(Object.keys(byRule('pii_leak.exposure')?.evidence.types as object).sort()).toEqual([
      'credit_card',
      'secret',
    ]);
    expect(byRule('pii_leak.output')?.evidence.types).toEqual({ email: 3 });
    expect(byRule('drift.language')?.subject).toEqual({
      service: 'support-bot',
      promptName: 'classify-ticket',
    });
    const whale = byRule('cost_spike.single_call');
    expect((whale?.evidence.examples as Array<{ inputTokens: number }>)[0]?.inputTokens).toBe(150_000);
    expect(byRule('cost_spike.user')?.subject).toEqual({ userId: 'etl-nightly' });
    const regression = byRule('prompt_regression.version');
    expect(regression?.subject).toEqual({ promptName: 'classify-ticket', promptVersion: '4' });
    // Which metrics are significant in a given hour depends on that hour's sample: over the
    // rollout's windows, every metric that got worse is named.
    const worse = detections
      .filter((d) => d.rule === 'prompt_regression.version' && d.subject.promptVersion === '4')
      .flatMap((d) => (d.evidence.worse as Array<{ metric: string }>).map((w) => w.metric));
    expect(worse).toEqual(expect.arrayContaining(['output_tokens', 'latency_ms', 'score:label_accuracy']));
  });
});

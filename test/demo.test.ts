import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { renderDetections, reportCommand } from '../collector/src/cli/commands/demo.js';
import { loadReport } from '../collector/src/cli/commands/report.js';
import { runDemo, type DemoResult } from '../collector/src/demo/run.js';
import { renderReport } from '../collector/src/report/render.js';

/**
 * `llmwatch demo` end to end: a real collector on embedded ClickHouse, the baseline through the
 * OTel OTLP exporter, live calls through @llmwatch/sdk and the official clients against the fake
 * providers, the real ingest pipeline and detectors. Each injected incident must be detected, and
 * nothing else may page anyone.
 */
describe('llmwatch demo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'llmwatch-demo-'));
  let progress = '';
  let result: DemoResult;
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'runs in well under two minutes and raises an alert for each incident',
    { timeout: 120_000 },
    async () => {
      const sink = new Writable({
        write(chunk: Buffer, _enc, done) {
          progress += chunk.toString();
          done();
        },
      });
      result = await runDemo({ dataDir: join(dir, 'data'), progress: sink });
      expect(result.seconds).toBeLessThan(90);
      expect(result.baselineSpans).toBe(3 * 150 + 700 + 60);
      expect(result.liveCalls).toBe(206);
      // The scripted 429s: 45% of the 50 rate-limit calls.
      expect(result.liveErrors).toBe(23);

      const raised = result.detections.map((d) => `${d.kind} ${JSON.stringify(d.subject)}`);
      expect(raised, raised.join('\n')).toEqual(
        expect.arrayContaining([
          'cost_spike {"userId":"user-runaway-7"}',
          'latency_regression {"model":"claude-haiku-4-5"}',
          expect.stringMatching(/^error_rate .*"model":"gpt-4o-mini"/),
        ]),
      );
      // One incident, one alert: the runaway user is the news; the rise of its model gpt-4o is a
      // contributor in that alert's evidence, not a second cost alert (docs/detection.md).
      const costAlerts = result.detections.filter((d) => d.kind === 'cost_spike');
      expect(costAlerts.map((d) => d.subject)).toEqual([{ userId: 'user-runaway-7' }]);
      const contributors = costAlerts[0]!.evidence.contributors as Array<{ subject: { model?: string } }>;
      expect(contributors.map((c) => c.subject.model)).toContain('gpt-4o');
      // Models without an incident stay quiet.
      for (const d of result.detections)
        expect(JSON.stringify(d.subject)).not.toContain('"model":"claude-sonnet');
      expect(
        result.detections.filter((d) => d.kind === 'latency_regression').map((d) => d.subject.model),
      ).toEqual(['claude-haiku-4-5']);
    },
  );

  it('reports exactly the calls of the current window, with the open alerts', () => {
    // 60 backdated calls earlier in the window + 206 live ones.
    expect(result.report.totals.calls).toBe(266);
    // The scripted 429s, apart from the 1% background of 500s in the backdated traffic.
    expect(result.report.errors.find((e) => e.errorType === 'RateLimitError')).toEqual({
      model: 'gpt-4o-mini',
      errorType: 'RateLimitError',
      calls: 23,
    });
    expect(result.report.byModel.map((m) => m.key).sort()).toEqual([
      'claude-haiku-4-5',
      'gpt-4o',
      'gpt-4o-mini',
    ]);
    expect(result.report.alerts!.length).toBe(result.detections.length);
    const text = renderReport(result.report) + renderDetections(result.detections);
    expect(text).toContain('user-runaway-7');
    expect(text).toMatch(/alerts raised \(\d+\):/);
  });

  it('the report command it prints shows its data (the README flow showed another directory)', async () => {
    expect(reportCommand(result, undefined)).toContain('--data ');
    const stored = await loadReport({ since: '4d', data: result.dataDir! });
    expect(stored.totals.calls).toBe(result.baselineSpans + result.liveCalls);
  });

  it('shows its progress', () => {
    expect(progress).toContain('collector started on http://127.0.0.1:');
    expect(progress).toContain('live calls: 206/206');
    expect(progress).toContain('running detection');
  });
});

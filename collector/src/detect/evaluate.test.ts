import { describe, expect, it } from 'vitest';
import { sign, slackMessage } from '../alert/notify.js';
import { parseConfig } from '../config/index.js';
import { evaluateCostGroups, evaluateCostOutliers, type CostGroupRow } from './cost-spike.js';
import type { CentroidRow, DriftGroupRow, DriftKsRow } from './drift-sql.js';
import { evaluateDriftDistributions } from './drift-evaluate.js';
import { categoricalShift, semanticDrift } from './drift-stats.js';
import { evaluateErrorRate, type ErrorRateRow } from './error-rate.js';
import { evaluatePii, filterRoutineExposure, type PiiRow } from './pii-leak.js';
import { findCandidates } from './prompt-regression.js';
import { chiSquareCritical, median, normalQuantile, poissonSf, robustSigma } from './stats.js';
import { subjectKey } from './types.js';

const cfg = parseConfig({}).detection;
const HOUR = 3_600_000;
const window = { fromMs: 10 * 24 * HOUR, toMs: 10 * 24 * HOUR + HOUR };

function costRows(
  dim: CostGroupRow['dim'],
  key: string,
  current: number,
  baseline: number[],
  calls = 100,
): CostGroupRow {
  return {
    project: 'p',
    dim,
    key,
    days: [
      [0, current, calls] as [number, number, number],
      ...baseline.map((c, i) => [i + 1, c, calls] as [number, number, number]),
    ],
  };
}

describe('statistics helpers', () => {
  it('median, MAD and quantiles', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(robustSigma([1, 2, 3, 4, 100])).toBeCloseTo(1.4826, 4);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    expect(normalQuantile(0.001)).toBeCloseTo(-3.090232, 5);
    // χ²(2) at 0.001 is 13.8155; Wilson-Hilferty errs slightly high (conservative) at low df.
    expect(chiSquareCritical(2, 0.001)).toBeGreaterThan(13.8);
    expect(chiSquareCritical(2, 0.001)).toBeLessThan(14.3);
    // χ²(10) at 0.001 is 29.588.
    expect(chiSquareCritical(10, 0.001)).toBeCloseTo(29.588, 0);
  });
});

describe('cost_spike', () => {
  it('does not alert on a ±50% day-to-day swing at the same hour', () => {
    const rows = [costRows('project', '', 1.5, [1.0, 0.6, 1.4, 0.9, 1.2, 0.7, 1.1])];
    expect(evaluateCostGroups(rows, window, cfg)).toEqual([]);
  });

  it('alerts when spend is several times the seasonal baseline, with the numbers behind it', () => {
    const rows = [costRows('project', '', 4.0, [1.0, 0.9, 1.1, 1.0, 1.05, 0.95, 1.0])];
    const [d] = evaluateCostGroups(rows, window, cfg);
    expect(d).toMatchObject({
      kind: 'cost_spike',
      rule: 'cost_spike.project',
      subject: {},
      observed: 4,
      baseline: 1,
      severity: 'warning',
      window: { from: new Date(window.fromMs).toISOString(), to: new Date(window.toMs).toISOString() },
    });
    expect(d!.evidence).toMatchObject({ ratio: 4, calls: 100 });
  });

  it('catches a new user burning a real share of the project, not a small new user', () => {
    const project = costRows('project', '', 1.2, [1, 1, 1, 1]);
    const runaway = {
      project: 'p',
      dim: 'user' as const,
      key: 'etl',
      days: [[0, 0.8, 300] as [number, number, number]],
    };
    const small = {
      project: 'p',
      dim: 'user' as const,
      key: 'u1',
      days: [[0, 0.6, 30] as [number, number, number]],
    };
    const smallButLow = { ...small, key: 'u2', days: [[0, 0.05, 30] as [number, number, number]] };
    const fired = evaluateCostGroups([project, runaway, small, smallButLow], window, cfg).map(
      (d) => d.subject,
    );
    // u1 costs 60% of the project's usual hour: alert; u2 is below minCostUsd.
    expect(fired).toEqual([{ userId: 'etl' }, { userId: 'u1' }]);
  });

  it('a burst spread over every user and prompt is one project alert, with its slices as contributors', () => {
    const users = ['a', 'b', 'c', 'd'].map((u) => costRows('user', u, 1.2, [0.4, 0.38, 0.42, 0.4, 0.41], 60));
    const prompts = ['x', 'y'].map((p) => costRows('prompt', p, 2.4, [0.8, 0.78, 0.82, 0.8, 0.81], 120));
    const project = costRows('project', '', 4.8, [1.6, 1.55, 1.65, 1.6, 1.62], 240);
    const found = evaluateCostGroups([project, ...users, ...prompts], window, cfg);
    expect(found.map((d) => d.rule)).toEqual(['cost_spike.project']);
    const contributors = found[0]!.evidence.contributors as Array<{ rule: string; shareOfExcess: number }>;
    expect(contributors.map((c) => c.rule).sort()).toEqual([
      ...Array<string>(2).fill('cost_spike.prompt'),
      ...Array<string>(4).fill('cost_spike.user'),
    ]);
    expect(contributors.find((c) => c.rule === 'cost_spike.prompt')!.shareOfExcess).toBeCloseTo(0.5, 1);
  });

  it('one prompt carrying the rise is the alert, even when it is half of the usual spend', () => {
    const project = costRows('project', '', 3.2, [1.6, 1.55, 1.65, 1.6, 1.62], 240);
    const hot = costRows('prompt', 'x', 2.4, [0.8, 0.78, 0.82, 0.8, 0.81], 120);
    const calm = costRows('prompt', 'y', 0.8, [0.8, 0.78, 0.82, 0.8, 0.81], 120);
    const found = evaluateCostGroups([project, hot, calm], window, cfg);
    expect(found.map((d) => [d.rule, d.subject])).toEqual([['cost_spike.prompt', { promptName: 'x' }]]);
  });

  it('the only model of a project is named for its burst (the same traffic, more specifically)', () => {
    const project = costRows('project', '', 3.2, [1.6, 1.55, 1.65, 1.6, 1.62], 240);
    const model = { ...costRows('model', 'gpt-4o-mini', 3.2, [1.6, 1.55, 1.65, 1.6, 1.62], 240), slices: 1 };
    const found = evaluateCostGroups([project, model], window, cfg);
    expect(found.map((d) => [d.rule, d.subject])).toEqual([['cost_spike.model', { model: 'gpt-4o-mini' }]]);
  });

  it('a small user doubling by chance is not an alert; the same user at ten times its spend is', () => {
    // 20 users of ~12 calls an hour at ~$0.002 (spread $0.0022 rms): 23 calls happen.
    const perCall = 0.0018;
    const meanSquare = 0.0022 ** 2;
    const user = (current: number, calls: number): CostGroupRow => ({
      project: 'p',
      dim: 'user',
      key: 'u-12',
      slices: 20,
      days: [
        [0, current, calls, calls * meanSquare],
        ...[0.0208, 0.0366, 0.0182].map(
          (c, i) =>
            [i + 1, c, Math.round(c / perCall), Math.round(c / perCall) * meanSquare] as [
              number,
              number,
              number,
              number,
            ],
        ),
      ],
    });
    const project = costRows('project', '', 0.5, [0.45, 0.5, 0.48], 240);
    expect(evaluateCostGroups([project, user(0.0593, 23)], window, cfg)).toEqual([]);
    const [runaway] = evaluateCostGroups([project, user(0.25, 60)], window, cfg);
    expect(runaway).toMatchObject({ rule: 'cost_spike.user', subject: { userId: 'u-12' } });
    expect(runaway!.evidence.countPValue).toBeLessThan(1e-4 / 20);
  });

  it('needs enough baseline days', () => {
    const rows = [costRows('project', '', 10, [1])];
    expect(evaluateCostGroups(rows, window, cfg)).toEqual([]);
  });

  it('groups single-call outliers per model and prompt, most expensive first', () => {
    const base = {
      project: 'p',
      model: 'gpt-4o',
      promptName: 'a',
      service: 's',
      userId: 'u',
      spanId: 's1',
      inputTokens: 1,
      outputTokens: 1,
      peerMedian: 0.004,
      peerP99: 0.008,
      peers: '500',
    };
    const [d] = evaluateCostOutliers(
      [
        { ...base, traceId: 't1', costUsd: 0.4 },
        { ...base, traceId: 't2', costUsd: 0.1 },
      ],
      window,
    );
    expect(d!.rule).toBe('cost_spike.single_call');
    expect(d!.severity).toBe('critical');
    expect((d!.evidence.examples as Array<{ traceId: string }>).map((e) => e.traceId)).toEqual(['t1', 't2']);
  });
});

describe('error_rate', () => {
  const row = (
    provider: string,
    model: string,
    nCur: number,
    eCur: number,
    z: number,
    p: number,
  ): ErrorRateRow => ({
    project: 'p',
    provider,
    model,
    nCur,
    eCur,
    nBase: 10_000,
    eBase: 100,
    z,
    p,
    errorTypes: { RateLimitError: eCur },
  });

  it('names the failing model when one model fails and the provider when several do', () => {
    const one = evaluateErrorRate(
      [
        row('openai', '', 200, 30, 10, 1e-20),
        row('openai', 'gpt-4o-mini', 100, 28, 12, 1e-25),
        row('openai', 'gpt-4o', 100, 2, 0.5, 0.6),
      ],
      window,
      cfg,
    );
    expect(one.map((d) => d.rule + ' ' + subjectKey(d.subject))).toEqual([
      'error_rate.model provider=openai|model=gpt-4o-mini',
    ]);
    expect(one[0]!.evidence.dominantErrorType).toBe('RateLimitError');
    const two = evaluateErrorRate(
      [
        row('openai', '', 200, 60, 15, 1e-30),
        row('openai', 'a', 100, 30, 12, 1e-25),
        row('openai', 'b', 100, 30, 12, 1e-25),
      ],
      window,
      cfg,
    );
    expect(two.map((d) => d.rule)).toEqual(['error_rate.provider']);
  });

  it('regression: a baseline without any error (proportionsZTest gives null) still alerts on a burst', () => {
    const clean = { ...row('openai', 'gpt-4o-mini', 22, 5, 0, 0), nBase: 126, eBase: 0, z: null, p: null };
    expect(evaluateErrorRate([clean], window, cfg).map((d) => d.rule)).toEqual(['error_rate.model']);
    // One error in 22 calls is not a burst, whatever the clean baseline.
    expect(evaluateErrorRate([{ ...clean, eCur: 1 }], window, cfg)).toEqual([]);
  });

  it('ignores significant but tiny increases', () => {
    expect(evaluateErrorRate([row('openai', 'm', 5000, 100, 5, 1e-6)], window, cfg)).toEqual([]);
  });
});

describe('drift helpers', () => {
  it('PSI is small for the same mix and large for a real shift; the chi-square guard scales with sample size', () => {
    const same = categoricalShift(
      [
        { category: 'stop', cur: 90, base: 9000 },
        { category: 'length', cur: 10, base: 1000 },
      ],
      0.001,
    );
    expect(same.psi).toBeLessThan(0.01);
    const shifted = categoricalShift(
      [
        { category: 'stop', cur: 10, base: 9000 },
        { category: 'length', cur: 90, base: 1000 },
      ],
      0.001,
    );
    expect(shifted.psi).toBeGreaterThan(1);
    expect(shifted.psi).toBeGreaterThan(shifted.critical);
    expect(shifted.top[0]).toEqual({ category: 'stop', current: 0.1, baseline: 0.9 });
    const tiny = categoricalShift(
      [
        { category: 'a', cur: 2, base: 500 },
        { category: 'b', cur: 1, base: 500 },
      ],
      0.001,
    );
    expect(tiny.psi).toBeLessThan(tiny.critical);
  });

  it('semantic drift must exceed the spread of same-size baseline subsamples', () => {
    const unit = (i: number) => Array.from({ length: 4 }, (_, k) => (k === i ? 1 : 0));
    const noisy = (k: number): number[] => [1, 0.05 * Math.sin(k), 0.05 * Math.cos(k), 0];
    const base: CentroidRow[] = Array.from({ length: 16 }, (_, k) => ({
      bucket: k,
      n: 100,
      centroid: noisy(k),
    }));
    const same = semanticDrift([...base, { bucket: -1, n: 100, centroid: noisy(99) }], cfg);
    expect(same!.distance).toBeLessThan(same!.threshold);
    const moved = semanticDrift([...base, { bucket: -1, n: 100, centroid: [0.6, 0.8, 0, 0] }], cfg);
    expect(moved!.distance).toBeGreaterThan(moved!.threshold);
    expect(semanticDrift([{ bucket: -1, n: 10, centroid: unit(0) }], cfg)).toBeNull();
  });

  it('a length test significant alone is not an alert among the many tests of a project’s pass', () => {
    const group = (promptName: string): DriftGroupRow => ({
      project: 'p',
      service: 'svc',
      promptName,
      model: '',
      nCur: 50,
      nBase: 150,
      inMedCur: 792,
      inMedBase: 928,
      outMedCur: 100,
      outMedBase: 100,
      inEmb: 0,
      inEmbMin: 0,
      inEmbMax: 0,
      outEmb: 0,
      outEmbMin: 0,
      outEmbMax: 0,
      inSketch: 0,
      outSketch: 0,
      finishCur: {},
      finishBase: {},
      languageCur: {},
      languageBase: {},
      toolCur: {},
      toolBase: {},
    });
    // test/scenarios seed 4: D = 0.32, p = 4.3e-4 on one prompt's input lengths, nothing else moved.
    const ks = (promptName: string, inP: number): DriftKsRow => ({
      project: 'p',
      service: 'svc',
      promptName,
      model: '',
      inD: inP < 0.01 ? 0.32 : 0.1,
      inP,
      outD: 0.1,
      outP: 0.5,
    });
    const alone = evaluateDriftDistributions([group('a')], [ks('a', 4.3e-4)], [], window, cfg);
    expect(alone.map((d) => d.rule)).toEqual(['drift.input_tokens']);
    const prompts = ['a', 'b', 'c', 'd'];
    const among = prompts.map((p, i) => ks(p, i === 0 ? 4.3e-4 : 0.5));
    expect(evaluateDriftDistributions(prompts.map(group), among, [], window, cfg)).toEqual([]);
    const real = prompts.map((p, i) => ks(p, i === 0 ? 1e-9 : 0.5));
    expect(evaluateDriftDistributions(prompts.map(group), real, [], window, cfg)).toHaveLength(1);
  });

  it('a low 90th percentile among the subsamples does not let heavy-tailed noise through', () => {
    const at = (angle: number): number[] => [Math.cos(angle), Math.sin(angle), 0, 0];
    // Fifteen subsamples close together and one far out: the 90th percentile sees only the
    // fifteen (four times it is below 0.03 here); the mean of all sixteen carries the heavy tail.
    const base: CentroidRow[] = Array.from({ length: 16 }, (_, k) => ({
      bucket: k,
      n: 100,
      centroid: at(k === 15 ? 0.9 : 0.06 * Math.sin(k)),
    }));
    const r = semanticDrift([...base, { bucket: -1, n: 100, centroid: at(0.33) }], cfg)!;
    expect(r.distance).toBeGreaterThan(0.03);
    expect(r.distance).toBeLessThan(r.threshold);
  });
});

describe('prompt_regression candidates', () => {
  const baseMs = window.fromMs - 7 * 24 * HOUR;
  const v = (promptVersion: string, firstMs: number, calls: number, currentCalls: number) => ({
    project: 'p',
    promptName: 'x',
    promptVersion,
    firstMs,
    calls,
    currentCalls,
  });

  it('pairs a version first seen within the lookback with the busiest older version', () => {
    const c = findCandidates(
      [
        v('1', baseMs, 5000, 0),
        v('2', baseMs + 2 * 24 * HOUR, 9000, 10),
        v('3', window.fromMs - HOUR, 80, 40),
      ],
      window,
      baseMs,
      cfg,
    );
    expect(c).toEqual([
      { project: 'p', promptName: 'x', newVersion: '3', previousVersion: '2', firstMs: window.fromMs - HOUR },
    ]);
  });

  it('skips versions no longer served (rolled back) and versions that start with the data', () => {
    expect(
      findCandidates([v('1', baseMs, 5000, 50), v('2', window.fromMs - HOUR, 80, 0)], window, baseMs, cfg),
    ).toEqual([]);
    expect(findCandidates([v('1', baseMs + HOUR, 5000, 50)], window, baseMs, cfg)).toEqual([]);
  });
});

describe('pii_leak', () => {
  const row = (rule: 'output' | 'exposure', type: string, findings: number): PiiRow => ({
    project: 'p',
    rule,
    service: 's',
    provider: 'openai',
    model: 'gpt-4o',
    promptName: 'a',
    type,
    findings,
    spans: findings,
    actions: ['redact'],
    examples: [['t1', 's1']],
  });

  it('one alert per rule and subject, with the severity of its worst type', () => {
    const out = evaluatePii(
      [row('exposure', 'email', 5), row('exposure', 'secret', 1), row('output', 'email', 2)],
      window,
      cfg,
    );
    expect(out.map((d) => [d.rule, d.severity, d.evidence.types])).toEqual([
      ['pii_leak.exposure', 'critical', { email: 5, secret: 1 }],
      ['pii_leak.output', 'warning', { email: 2 }],
    ]);
  });
});

describe('pii_leak routine exposure', () => {
  const row = (type: string, findings: number): PiiRow => ({
    project: 'p',
    rule: 'exposure',
    service: 's',
    provider: 'openai',
    model: 'm',
    promptName: 'a',
    type,
    findings,
    spans: findings,
    actions: [],
    examples: [],
  });
  const baseline = [
    {
      project: 'p',
      service: 's',
      provider: 'openai',
      model: 'm',
      promptName: 'a',
      type: 'email',
      findings: 48,
    },
  ];

  it('keeps secrets always and routine emails only when far above their usual rate', () => {
    const day = 24 * HOUR;
    const kept = (findings: number) =>
      filterRoutineExposure([row('email', findings), row('secret', 1)], baseline, window, day, cfg).map(
        (r) => `${r.type}:${r.findings}`,
      );
    // 48 a day is 2 an hour: 6 is ordinary noise at a busy hour, 15 is an incident.
    expect(kept(6)).toEqual(['secret:1']);
    expect(kept(15)).toEqual(['email:15', 'secret:1']);
    expect(poissonSf(0, 3)).toBe(1);
    expect(poissonSf(12, 3.2)).toBeCloseTo(0.000129, 5);
  });
});

describe('notifier payloads', () => {
  it('signs the exact body and renders a readable Slack message', () => {
    // RFC-style known vector for HMAC-SHA256.
    expect(sign('The quick brown fox jumps over the lazy dog', 'key')).toBe(
      'sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8',
    );
    const [d] = evaluatePii(
      [
        {
          ...{
            project: 'p',
            rule: 'output' as const,
            service: 's',
            provider: 'openai',
            model: 'm',
            promptName: '',
            type: 'secret',
            findings: 1,
            spans: 1,
            actions: [],
            examples: [],
          },
        },
      ],
      window,
      cfg,
    );
    const msg = slackMessage(d!);
    expect(msg.text.startsWith(':red_circle: CRITICAL: pii leak — service s, model m\n')).toBe(true);
    expect(
      slackMessage({ ...d!, status: 'resolved' }).text.startsWith(':white_check_mark: Resolved: pii leak'),
    ).toBe(true);
  });
});

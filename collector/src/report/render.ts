import Table from 'cli-table3';
import type { Report, ReportGroup } from './build.js';

const BARS = '▁▂▃▄▅▆▇█';

/** `[0, 1, 5, 2]` → `▁▂█▃`; all-zero series render as a flat baseline. */
export function sparkline(values: readonly number[]): string {
  const max = Math.max(0, ...values);
  if (max === 0) return BARS[0]!.repeat(values.length);
  return values
    .map((v) => (v <= 0 ? ' ' : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))]!))
    .join('');
}

const SMALL_USD = new Intl.NumberFormat('en-US', { maximumSignificantDigits: 2, useGrouping: false });

/** Dollars and cents from $1; below, two significant digits ($0.00042, never $0.0000). */
export function formatUsd(v: number): string {
  if (v === 0) return '$0';
  if (Math.abs(v) < 1) return `$${SMALL_USD.format(v)}`;
  return `$${v.toFixed(2)}`;
}

export function formatCount(v: number): string {
  if (v >= 1e9) return `${(v / 1e9).toFixed(1)}B`;
  if (v >= 1e6) return `${(v / 1e6).toFixed(1)}M`;
  if (v >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  return String(v);
}

const ms = (v: number | null) =>
  v === null ? '-' : v >= 10_000 ? `${(v / 1000).toFixed(1)}s` : `${Math.round(v)}ms`;
const pct = (v: number) => `${(v * 100).toFixed(1)}%`;

function table(head: string[], rows: string[][], rightFrom = 1): string {
  const t = new Table({
    head,
    style: { head: [], border: [], compact: true },
    colAligns: head.map((_, i) => (i >= rightFrom ? 'right' : 'left')),
  });
  for (const row of rows) t.push(row);
  return t.toString();
}

function groupTable(title: string, groups: ReportGroup[], withProvider: boolean): string {
  if (!groups.length) return `${title}\n  (no calls)\n`;
  const head = [
    title,
    ...(withProvider ? ['provider'] : []),
    'calls',
    'errors',
    'tokens in/out',
    'cost',
    'p50',
    'p95',
    'p99',
    'ttft p95',
    'calls over time',
  ];
  const rows = groups.map((g) => [
    g.key || '(none)',
    ...(withProvider ? [g.provider ?? ''] : []),
    formatCount(g.calls),
    g.errors ? `${g.errors} (${pct(g.errorRate)})` : '0',
    `${formatCount(g.inputTokens)}/${formatCount(g.outputTokens)}`,
    formatUsd(g.costUsd) + (g.unpricedCalls ? ` +${g.unpricedCalls} unpriced` : ''),
    ms(g.p50Ms),
    ms(g.p95Ms),
    ms(g.p99Ms),
    ms(g.ttftP95Ms),
    sparkline(g.callsSeries),
  ]);
  return table(head, rows, 1 + (withProvider ? 1 : 0));
}

/** The terminal rendering of a report (tables, sparklines; no colours so it pipes cleanly). */
export function renderReport(report: Report): string {
  const t = report.totals;
  const span = `${report.from.slice(0, 16).replace('T', ' ')} → ${report.to.slice(0, 16).replace('T', ' ')} UTC`;
  const out: string[] = [];
  out.push(`llmwatch report · project ${report.project} · ${span}`);
  out.push(
    `${formatCount(t.calls)} calls · ${formatUsd(t.costUsd)} · ${formatCount(t.inputTokens + t.outputTokens)} tokens · ` +
      `p95 ${ms(t.p95Ms)} · errors ${pct(t.errorRate)}  ${sparkline(t.callsSeries)}`,
  );
  out.push('');
  out.push(groupTable('model', report.byModel, true));
  out.push('');
  out.push(groupTable('prompt', report.byPrompt, false));
  out.push('');
  const { noPriceForModel, noUsageReported } = report.unpriced;
  if (noPriceForModel || noUsageReported)
    out.push(
      `calls without a cost: ${noPriceForModel} with no known price for the model, ${noUsageReported} with no reported usage`,
      '',
    );
  if (report.errors.length) {
    out.push(
      table(
        ['errors: model', 'error type', 'calls'],
        report.errors.map((e) => [e.model, e.errorType, String(e.calls)]),
        2,
      ),
    );
  } else out.push('errors: none');
  out.push('');
  if (report.pii.length) {
    out.push(
      table(
        ['PII: type', 'place', 'findings', 'calls', 'over time'],
        report.pii.map((p) => [p.type, p.place, String(p.findings), String(p.calls), sparkline(p.series)]),
        2,
      ),
    );
  } else out.push('PII findings: none');
  out.push('');
  if (report.alerts === null) out.push('open alerts: (no alert store in this deployment)');
  else if (!report.alerts.length) out.push('open alerts: none');
  else
    out.push(
      table(
        ['open alerts: severity', 'kind', 'subject', 'message', 'since'],
        report.alerts.map((a) => [
          a.severity,
          a.kind,
          Object.entries(a.subject)
            .map(([k, v]) => `${k}=${v}`)
            .join(' ') || '(whole project)',
          a.message.length > 80 ? `${a.message.slice(0, 77)}...` : a.message,
          a.firstSeen.slice(0, 16).replace('T', ' '),
        ]),
        99,
      ),
    );
  if (report.rag.length) {
    const share = (n: number, of: number) => `${Math.round((100 * n) / of)}%`;
    out.push(
      '',
      table(
        [
          'RAG answers: pipeline',
          'prompt',
          'answers',
          'ok',
          'knowledge gap',
          'retrieval miss',
          'ungrounded',
          'refusal',
        ],
        report.rag.map((r) => [
          r.pipeline,
          r.promptName || '-',
          String(r.traces),
          share(r.ok, r.traces),
          share(r.knowledgeGap, r.traces),
          share(r.retrievalMiss, r.traces),
          share(r.ungrounded, r.traces),
          share(r.refusal, r.traces),
        ]),
        2,
      ),
    );
  }
  out.push('', ...baselineLines(report));
  return `${out.join('\n')}\n`;
}

/** One line per baseline state: which detectors judge against what, and when that improves. */
function baselineLines(report: Report): string[] {
  const byState = new Map<string, string[]>();
  for (const b of report.baselines) {
    const next =
      b.nextTierInHours === null
        ? ''
        : `; ${b.kind === 'creep' ? 'daily trend' : b.state === 'learning' ? 'recent-hours baseline' : 'seasonal baseline'} in ${b.nextTierInHours} h`;
    const what =
      b.kind === 'creep'
        ? b.state === 'learning'
          ? `learning (${b.historyHours} h of history${next})`
          : `daily trend (${b.historyHours} h of history)`
        : b.state === 'learning'
          ? `learning (${b.historyHours} h of history, only absolute guards${next})`
          : `${b.state} baseline (${b.historyHours} h of history${next})`;
    byState.set(what, [...(byState.get(what) ?? []), b.kind]);
  }
  return [...byState].map(([what, kinds]) => `detection: ${kinds.join(', ')}: ${what}`);
}

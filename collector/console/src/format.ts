/** Number and time formats shared by every page (en-US digits, the browser's time zone). */
const int = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function fmtInt(n: number): string {
  return int.format(n);
}

/** Token counts: null when the provider reported no usage (unknown, not zero). */
export function fmtTokens(n: number | null): string {
  return n === null ? '—' : int.format(n);
}

export function fmtCompact(n: number): string {
  if (!Number.isInteger(n) && Math.abs(n) < 100) return String(Math.round(n * 100) / 100);
  return Math.abs(n) < 10_000 ? int.format(n) : compact.format(n);
}

export function fmtUsd(n: number | null | undefined): string {
  if (n === null || n === undefined) return '—';
  if (n === 0) return '$0';
  const abs = Math.abs(n);
  if (abs >= 100) return `$${n.toFixed(0)}`;
  if (abs >= 1) return `$${n.toFixed(2)}`;
  if (abs >= 0.01) return `$${n.toFixed(4)}`;
  return `$${n.toPrecision(2)}`;
}

export function fmtMs(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  if (n === 0) return '0 ms';
  if (n < 1) return `${n.toFixed(2)} ms`;
  if (n < 1000) return `${Math.round(n)} ms`;
  if (n < 60_000) return `${(n / 1000).toFixed(n < 10_000 ? 2 : 1)} s`;
  return `${(n / 60_000).toFixed(1)} min`;
}

export function fmtPct(ratio: number): string {
  if (!Number.isFinite(ratio)) return '—';
  const p = ratio * 100;
  return `${p < 10 && p !== 0 ? p.toFixed(1) : p.toFixed(0)}%`;
}

const pad = (n: number) => String(n).padStart(2, '0');

/** `2026-11-20 14:03:07` in the browser's time zone. */
export function fmtTime(iso: string, seconds = true): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const date = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}${seconds ? `:${pad(d.getSeconds())}` : ''}`;
  return `${date} ${time}`;
}

/** A short axis label: the time when the range is within a day, else the date too. */
export function fmtAxisTime(iso: string, spanMs: number): string {
  const d = new Date(iso);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  return spanMs > 86_400_000 ? `${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hm}` : hm;
}

export function fmtAgo(iso: string, now = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (!Number.isFinite(s)) return iso;
  // Detections are stamped with their window's end, which may lie a little ahead of the clock.
  if (s < 60) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** Format of a measure by its name (series fields and alert metrics). */
export function fmtMeasure(metric: string, v: number | null): string {
  if (v === null) return '—';
  if (metric === 'costUsd') return fmtUsd(v);
  if (metric.endsWith('Ms')) return fmtMs(v);
  if (metric === 'errorRate') return fmtPct(v);
  return fmtCompact(v);
}

export const MEASURE_LABELS: Record<string, string> = {
  calls: 'calls',
  errors: 'errors',
  errorRate: 'error rate',
  inputTokens: 'input tokens',
  outputTokens: 'output tokens',
  costUsd: 'cost (USD)',
  piiCalls: 'calls with PII',
  p50Ms: 'latency p50',
  p95Ms: 'latency p95',
  ttftP50Ms: 'time to first token p50',
  ttftP95Ms: 'time to first token p95',
};

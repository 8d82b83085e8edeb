import type { ComponentChildren } from 'preact';
import type { Loaded } from './hooks.js';

export const RANGES = ['1h', '6h', '24h', '7d', '30d'] as const;
export type RangeName = (typeof RANGES)[number];
const RANGE_MS: Record<RangeName, number> = {
  '1h': 3_600_000,
  '6h': 21_600_000,
  '24h': 86_400_000,
  '7d': 604_800_000,
  '30d': 2_592_000_000,
};

/** The time range of a page: explicit `from`/`to` in the URL, else a named range ending now. */
export function rangeOf(query: URLSearchParams): { from: string; to: string; name: RangeName | 'custom' } {
  const from = query.get('from');
  const to = query.get('to');
  if (from && to) return { from, to, name: 'custom' };
  const name = (RANGES as readonly string[]).includes(query.get('range') ?? '')
    ? (query.get('range') as RangeName)
    : '24h';
  const now = Date.now();
  return { from: new Date(now - RANGE_MS[name]).toISOString(), to: new Date(now).toISOString(), name };
}

export function RangePicker(props: { current: string; hrefFor: (range: RangeName) => string }) {
  return (
    <nav class="range" aria-label="Time range">
      {RANGES.map((r) => (
        <a
          key={r}
          href={props.hrefFor(r)}
          class={props.current === r ? 'active' : ''}
          aria-current={props.current === r ? 'true' : undefined}
        >
          {r}
        </a>
      ))}
    </nav>
  );
}

export function Status(props: { loaded: Loaded<unknown>; what: string }) {
  if (props.loaded.state === 'loading')
    return (
      <p class="muted" role="status">
        Loading {props.what}…
      </p>
    );
  if (props.loaded.state === 'error')
    return (
      <p class="error" role="alert">
        Could not load {props.what}: {props.loaded.error}
      </p>
    );
  return null;
}

export function Badge(props: { tone: string; children: ComponentChildren }) {
  return <span class={`badge badge-${props.tone}`}>{props.children}</span>;
}

export function statusTone(status: string): string {
  if (status === 'error' || status === 'Error' || status === 'critical' || status === 'firing') return 'bad';
  if (status === 'warning') return 'warn';
  if (status === 'ok' || status === 'Ok' || status === 'resolved') return 'good';
  return 'neutral';
}

export function Facts(props: { items: Array<[string, ComponentChildren]>; testId?: string }) {
  return (
    <dl class="facts" data-testid={props.testId}>
      {props.items.map(([label, value]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

export function Empty(props: { children: ComponentChildren }) {
  return <p class="muted empty">{props.children}</p>;
}

import { fmtAxisTime, fmtTime } from './format.js';

/**
 * Hand-drawn SVG charts: a time axis, a value axis with a few round gridlines, lines or bars.
 * The SVG scales to its container's width; text stays readable because the viewBox is wide.
 */
export interface ChartSeries {
  name: string;
  values: Array<number | null>;
  /** A CSS custom property name (e.g. `--c1`) so colours follow the theme. */
  color: string;
  kind?: 'line' | 'bar';
}

export interface ChartProps {
  title: string;
  times: string[];
  series: ChartSeries[];
  format: (v: number) => string;
  /** A time range to shade (the alert window). */
  highlight?: { from: string; to: string };
  /** Width of the drawing in SVG units: about the pixels it is shown at keeps text at 11 px. */
  width?: number;
  height?: number;
  testId?: string;
}

const PAD = { left: 64, right: 12, top: 12, bottom: 26 };

/** Gridline values: 0 and up to four more at a round step (1, 2 or 5 × 10^k) covering `max`. */
function ticks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 4;
  const exp = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * exp).find((s) => s >= rough)!;
  const top = Math.ceil(max / step - 1e-9) * step;
  return Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
}

export function TimeChart(props: ChartProps) {
  const W = props.width ?? 560;
  const height = props.height ?? (W * 9) / 28;
  const n = props.times.length;
  const plotW = W - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const bars = props.series.filter((s) => s.kind === 'bar');
  const grid = ticks(
    Math.max(
      0,
      ...props.series.flatMap((s) => s.values.map((v) => v ?? 0)),
      // Bars stack: their sum sets the scale.
      ...props.times.map((_, i) => bars.reduce((sum, s) => sum + (s.values[i] ?? 0), 0)),
    ),
  );
  const max = grid[grid.length - 1]!;
  const slot = n > 0 ? plotW / n : plotW;
  const x = (i: number) => PAD.left + slot * (i + 0.5);
  const y = (v: number) => PAD.top + plotH - (v / max) * plotH;
  const spanMs = n > 1 ? Date.parse(props.times[n - 1]!) - Date.parse(props.times[0]!) : 0;
  const labelEvery = Math.max(1, Math.ceil(n / 6));
  let shade: { x: number; w: number } | undefined;
  if (props.highlight && n > 0) {
    const from = Date.parse(props.highlight.from);
    const to = Date.parse(props.highlight.to);
    const idx = props.times.map((t) => Date.parse(t));
    const step = n > 1 ? idx[1]! - idx[0]! : 60_000;
    const first = idx.findIndex((t) => t + step > from);
    let last = idx.findIndex((t) => t >= to);
    if (last < 0) last = n;
    if (first >= 0) shade = { x: PAD.left + slot * first, w: Math.max(slot, slot * (last - first)) };
  }
  return (
    <figure class="chart" data-testid={props.testId}>
      <figcaption>
        <span class="chart-title">{props.title}</span>
        <span class="legend">
          {props.series.map((s) => (
            <span key={s.name} class="legend-item">
              <span class="swatch" style={{ background: `var(${s.color})` }} />
              {s.name}
            </span>
          ))}
        </span>
      </figcaption>
      <svg viewBox={`0 0 ${W} ${height}`} role="img" aria-label={props.title}>
        {shade && <rect class="chart-shade" x={shade.x} y={PAD.top} width={shade.w} height={plotH} />}
        {grid.map((v) => (
          <g key={v}>
            <line class="grid" x1={PAD.left} x2={W - PAD.right} y1={y(v)} y2={y(v)} />
            <text class="axis" x={PAD.left - 6} y={y(v) + 4} text-anchor="end">
              {props.format(v)}
            </text>
          </g>
        ))}
        {props.times.map((t, i) =>
          i % labelEvery === 0 ? (
            <text key={t} class="axis" x={x(i)} y={height - 8} text-anchor="middle">
              {fmtAxisTime(t, spanMs)}
            </text>
          ) : null,
        )}
        {props.times.map((t, i) => {
          let base = 0;
          return bars.map((s) => {
            const v = s.values[i] ?? 0;
            if (v <= 0) return null;
            const top = y(base + v);
            const h = y(base) - top;
            base += v;
            return (
              <rect
                key={`${s.name}-${t}`}
                x={x(i) - slot * 0.4}
                width={slot * 0.8}
                y={top}
                height={h}
                style={{ fill: `var(${s.color})` }}
              >
                <title>{`${fmtTime(t, false)} · ${s.name}: ${props.format(v)}`}</title>
              </rect>
            );
          });
        })}
        {props.series
          .filter((s) => s.kind !== 'bar')
          .map((s) => {
            // Gaps (null) break the line instead of dropping to zero.
            const segments: string[] = [];
            let current = '';
            s.values.forEach((v, i) => {
              if (v === null) {
                if (current) segments.push(current);
                current = '';
              } else current += `${current ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
            });
            if (current) segments.push(current);
            return (
              <g key={s.name}>
                {segments.map((d) => (
                  <path key={d} d={d} class="line" style={{ stroke: `var(${s.color})` }} />
                ))}
                {s.values.map((v, i) =>
                  v === null ? null : (
                    <circle
                      key={i}
                      cx={x(i)}
                      cy={y(v)}
                      r={n > 120 ? 0 : 2.2}
                      style={{ fill: `var(${s.color})` }}
                    >
                      <title>{`${fmtTime(props.times[i]!, false)} · ${s.name}: ${props.format(v)}`}</title>
                    </circle>
                  ),
                )}
              </g>
            );
          })}
      </svg>
    </figure>
  );
}

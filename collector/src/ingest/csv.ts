/**
 * Values in ClickHouse's CSV text form, for the rows the writer inserts most (one otel_traces and
 * one llm_calls row per LLM span). Of the formats both the embedded chDB connection and a
 * ClickHouse server take through the same raw insert, the engine parses CSV and TabSeparated with
 * the least CPU (`pnpm bench insert-formats`: within each other's run-to-run noise, 15–25% less
 * than JSONEachRow), and CSV strings need one escape, not five.
 *
 * A String field is double-quoted with `"` doubled: nothing else is escaped, so long contents go
 * through with one native pass. `\N` unquoted is NULL. An Array or Map field is its ClickHouse
 * text (`['a','b']`, `{'k':'v'}`: strings in single quotes with `\\`, `\'` and control characters
 * backslash-escaped) quoted as a CSV string. `insertRows` pins the CSV settings this relies on.
 */

const DOUBLE_QUOTES = /"/g;
const QUOTED_SPECIAL = /[\\'\t\n\r\0]/;
const BACKSLASHES = /\\/g;
const QUOTES = /'/g;
const TABS = /\t/g;
const NEWLINES = /\n/g;
const RETURNS = /\r/g;
const NULS = /\0/g;

/** A String column; also an Array or Map column from its ClickHouse text (arrayText, mapText). */
export function field(s: string): string {
  return s.includes('"') ? `"${s.replace(DOUBLE_QUOTES, '""')}"` : `"${s}"`;
}

/**
 * Escapes the control characters; callers escape backslashes first. One native pass per
 * character class present: a callback per match made long values several times slower to write.
 */
function escapeControls(s: string): string {
  let out = s;
  if (out.includes('\t')) out = out.replace(TABS, '\\t');
  if (out.includes('\n')) out = out.replace(NEWLINES, '\\n');
  if (out.includes('\r')) out = out.replace(RETURNS, '\\r');
  if (out.includes('\0')) out = out.replace(NULS, '\\0');
  return out;
}

/** A string inside an Array or Map. */
export function quoted(s: string): string {
  if (!QUOTED_SPECIAL.test(s)) return `'${s}'`;
  let out = s.includes('\\') ? s.replace(BACKSLASHES, '\\\\') : s;
  if (out.includes("'")) out = out.replace(QUOTES, "\\'");
  return `'${escapeControls(out)}'`;
}

export const NULL = '\\N';

export function bool(b: boolean): string {
  return b ? 'true' : 'false';
}

/** Array text of `items`, each written by `write` (a quoted string, a map's text…). */
export function arrayText<T>(items: readonly T[], write: (item: T) => string): string {
  if (items.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < items.length; i++) out += (i ? ',' : '') + write(items[i]!);
  return `${out}]`;
}

/** An Array(String) column (also Array(DateTime64) from the `seconds.fraction` text). */
export function strings(a: readonly string[]): string {
  return field(arrayText(a, quoted));
}

/** Where float32Base64 lays a vector's values out, grown to the longest seen. */
let floats = new Float32Array(1024);
/** Float32Array uses the host's byte order; the bytes travel little-endian, as ClickHouse's own formats do. */
const HOST_LITTLE_ENDIAN = new Uint8Array(new Float32Array([1]).buffer)[3] === 0x3f;

/**
 * A float vector for one of llm_calls' `…Base64` columns (migration 12): base64 of its values as
 * little-endian float32, each first rounded to 7 decimals (non-finite values as 0), which is what
 * the `[0.0421,…]` text written before held, so the stored values did not change. Parsing that
 * text had cost the engine ~10 µs per LLM span (docs/architecture.md); decoding the bytes costs it
 * ~0.2 µs a row.
 */
export function float32Base64(a: readonly number[]): string {
  if (floats.length < a.length) floats = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const rounded = Number.isFinite(x) ? Math.round(x * 1e7) : 0;
    // `rounded === 0` also for -0, which the text wrote as `0`.
    floats[i] = rounded === 0 ? 0 : rounded / 1e7;
  }
  const bytes = Buffer.from(floats.buffer, 0, a.length * 4);
  if (!HOST_LITTLE_ENDIAN) bytes.swap32();
  return `"${bytes.toString('base64')}"`;
}

/** Map(String, String) text, each value written as text by `text`, without the keys in `omit`. */
export function mapText<V>(
  m: Readonly<Record<string, V>>,
  text: (value: V) => string,
  omit: readonly string[] = [],
): string {
  let out = '{';
  let first = true;
  for (const key in m) {
    if (omit.length > 0 && omit.includes(key)) continue;
    out += `${first ? '' : ','}${quoted(key)}:${quoted(text(m[key]!))}`;
    first = false;
  }
  return `${out}}`;
}

/**
 * A table's CSV rows: each column next to the function that writes it, so the column list sent
 * with the insert and the fields of a line cannot disagree.
 */
export interface CsvTable<T> {
  columns: readonly string[];
  line(value: T): string;
}

export function csvTable<T>(
  spec: ReadonlyArray<readonly [column: string, write: (value: T) => string]>,
): CsvTable<T> {
  const writers = spec.map(([, write]) => write);
  return {
    columns: spec.map(([column]) => column),
    line(value: T): string {
      let out = writers[0]!(value);
      for (let i = 1; i < writers.length; i++) out += `,${writers[i]!(value)}`;
      return out;
    },
  };
}

/**
 * What Grafana and the grafana-clickhouse-datasource plugin do to a panel's raw SQL before it
 * reaches ClickHouse, reproduced step by step so dashboards can be tested without Grafana:
 *
 * 1. frontend, plugin `applyTemplateVariables`: `$__conditionalAll(cond, $var)` becomes `1=1` when
 *    the variable is All or empty, else `cond` (scanned from the LAST occurrence backwards, the
 *    arguments split at top-level commas, exactly two arguments or the query is left alone);
 * 2. frontend, Grafana `templateSrv.replace` with the plugin's format function: arrays become
 *    `'a','b'`, single values are inserted raw; `${var:singlequote}` quotes and escapes each value;
 * 3. backend, grafana-plugin-sdk-go `sqlutil.Interpolate` with the plugin's macros
 *    (pkg/macros/macros.go) plus the SDK defaults the plugin does not override. Its argument
 *    scanner is reproduced as is, including that a macro without arguments followed by `(` before
 *    `)` swallows everything up to the matching `)`.
 */

export interface TemplateVariable {
  name: string;
  /** Selected value(s); `['$__all']` (or `'$__all'`) selects All. */
  value: string | string[];
  /** Options known for the variable: what All expands to when no allValue is set. */
  options?: string[];
  allValue?: string;
  /** Only query variables take part in conditionalAll's lookup in older plugin versions. */
  type?: string;
}

export interface QueryContext {
  from: Date;
  to: Date;
  intervalMs: number;
}

// ---- 1. $__conditionalAll (plugin frontend, CHDatasource.applyConditionalAll) ----------------

function macroArgs(query: string, argsIndex: number): string[] {
  const args: string[] = [];
  const re = /\(|\)|,/g;
  let depth = 0;
  let lastArgEnd = 1;
  const sub = query.substring(argsIndex);
  let m: RegExpExecArray | null;
  while ((m = re.exec(sub)) !== null) {
    const token = m[0];
    if (token === '(') depth++;
    else if (token === ')') depth--;
    if (token === ',' && depth === 1) {
      args.push(sub.substring(lastArgEnd, re.lastIndex - 1));
      lastArgEnd = re.lastIndex;
    }
    if (depth === 0) {
      args.push(sub.substring(lastArgEnd, re.lastIndex - 1));
      return args;
    }
  }
  return [];
}

function valueString(v: TemplateVariable | undefined): string | undefined {
  if (!v) return undefined;
  return Array.isArray(v.value) ? v.value.join(',') : v.value;
}

export function applyConditionalAll(rawQuery: string, vars: readonly TemplateVariable[]): string {
  if (!rawQuery) return rawQuery;
  const macro = '$__conditionalAll(';
  let index = rawQuery.lastIndexOf(macro);
  while (index !== -1) {
    const params = macroArgs(rawQuery, index + macro.length - 1);
    if (params.length !== 2) return rawQuery;
    const [cond, varRef] = params as [string, string];
    const name = varRef.trim().substring(1);
    const value = valueString(vars.find((v) => v.name === name));
    const phrase = value === '' || value === '$__all' ? '1=1' : cond;
    rawQuery = rawQuery.replace(`${macro}${cond},${varRef})`, phrase);
    index = rawQuery.lastIndexOf(macro);
  }
  return rawQuery;
}

// ---- 2. template variables (Grafana templateSrv.replace + plugin format function) ------------

// Grafana's variable syntax: $var, [[var]] / [[var:fmt]], ${var} / ${var.path} / ${var:fmt}.
const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

function selected(v: TemplateVariable): string | string[] {
  const isAll = Array.isArray(v.value)
    ? v.value.length === 1 && v.value[0] === '$__all'
    : v.value === '$__all';
  if (!isAll) return v.value;
  if (v.allValue !== undefined) return v.allValue;
  return v.options ?? [];
}

function quote(s: string): string {
  return `'${s.replace(/'/g, "\\'")}'`;
}

function format(value: string | string[], fmt: string | undefined): string {
  if (fmt === undefined) return Array.isArray(value) ? `'${value.join("','")}'` : value;
  switch (fmt) {
    case 'singlequote':
      return Array.isArray(value) ? value.map(quote).join(',') : quote(value);
    case 'doublequote':
      return Array.isArray(value) ? value.map((s) => `"${s}"`).join(',') : `"${value}"`;
    case 'csv':
      return Array.isArray(value) ? value.join(',') : value;
    case 'raw':
      return Array.isArray(value) ? value.join(',') : value;
    default:
      throw new Error(`variable format ${fmt} not reproduced by this test harness`);
  }
}

export function replaceVariables(sql: string, vars: readonly TemplateVariable[]): string {
  return sql.replace(
    VARIABLE_REGEX,
    (match, v1?: string, v2?: string, f2?: string, v3?: string, _path?: string, f3?: string) => {
      const name = v1 ?? v2 ?? v3;
      const variable = vars.find((v) => v.name === name);
      // Unknown names (the backend macros: $__timeFilter, ...) are left for the backend.
      if (!variable) return match;
      return format(selected(variable), f2 ?? f3);
    },
  );
}

// ---- 3. backend macros (sqlutil.Interpolate + pkg/macros) -----------------------------------

type MacroFn = (ctx: QueryContext, args: string[]) => string;

const toDateTime = (d: Date) => `toDateTime(${Math.floor(d.getTime() / 1000)})`;
const toDateTime64 = (d: Date) => `fromUnixTimestamp64Milli(${d.getTime()})`;
const toDate = (d: Date) => `toDate('${d.toISOString().slice(0, 10)}')`;
const rfc3339 = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

function arity(name: string, args: string[], n: number): void {
  if (args.length !== n)
    throw new Error(
      `$__${name}: unexpected number of arguments: expected ${n} argument, received ${args.length}`,
    );
}

/** The plugin's macros (pkg/macros/macros.go), then the SDK defaults it does not override. */
export const MACROS: Record<string, MacroFn> = {
  fromTime: (c) => toDateTime(c.from),
  toTime: (c) => toDateTime(c.to),
  fromTime_ms: (c) => toDateTime64(c.from),
  toTime_ms: (c) => toDateTime64(c.to),
  timeFilter: (c, a) => {
    arity('timeFilter', a, 1);
    return `${a[0]} >= ${toDateTime(c.from)} AND ${a[0]} <= ${toDateTime(c.to)}`;
  },
  timeFilter_ms: (c, a) => {
    arity('timeFilter_ms', a, 1);
    return `${a[0]} >= ${toDateTime64(c.from)} AND ${a[0]} <= ${toDateTime64(c.to)}`;
  },
  dateFilter: (c, a) => {
    arity('dateFilter', a, 1);
    return `${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}`;
  },
  dateTimeFilter: (c, a) => {
    arity('dateTimeFilter', a, 2);
    return `(${a[0]} >= ${toDate(c.from)} AND ${a[0]} <= ${toDate(c.to)}) AND (${a[1]} >= ${toDateTime(c.from)} AND ${a[1]} <= ${toDateTime(c.to)})`;
  },
  dt: (c, a) => MACROS.dateTimeFilter!(c, a),
  timeInterval: (c, a) => {
    arity('timeInterval', a, 1);
    return `toStartOfInterval(toDateTime(${a[0]}), INTERVAL ${Math.trunc(Math.max(c.intervalMs / 1000, 1))} second)`;
  },
  timeInterval_ms: (c, a) => {
    arity('timeInterval_ms', a, 1);
    return `toStartOfInterval(toDateTime64(${a[0]}, 3), INTERVAL ${Math.trunc(Math.max(c.intervalMs, 1))} millisecond)`;
  },
  interval_s: (c) => String(Math.trunc(Math.max(c.intervalMs / 1000, 1))),
  // SDK defaults (data/sqlutil/macros.go) that the plugin does not override.
  timeFrom: (c, a) => {
    arity('timeFrom', a, 1);
    return `${a[0]} >= '${rfc3339(c.from)}'`;
  },
  timeTo: (c, a) => {
    arity('timeTo', a, 1);
    return `${a[0]} <= '${rfc3339(c.to)}'`;
  },
  table: () => '',
  column: () => '',
};

/** sqlutil.getMacroMatches: the macro text and its raw argument string. */
function macroMatches(input: string, name: string): [string, string][] {
  const re = new RegExp(`\\$__${name}\\b`, 'g');
  const out: [string, string][] = [];
  for (const m of input.matchAll(re)) {
    const start = m.index;
    const rest = input.slice(start);
    let macroEnd = 0;
    let argStart = 0;
    let depth = 0;
    let forceBreak = false;
    for (let i = 0; i < rest.length; i++) {
      if ((depth === 0 && macroEnd > 0) || forceBreak) break;
      const ch = rest[i];
      if (ch === '(') {
        depth++;
        if (argStart === 0) argStart = i + 1;
      } else if (ch === ')') {
        if (depth === 0) {
          macroEnd = 0;
          forceBreak = true;
          continue;
        }
        depth--;
        macroEnd = i + 1;
      }
    }
    if (macroEnd === 0) macroEnd = m[0].length;
    const text = rest.slice(0, macroEnd);
    const args = argStart > 0 ? rest.slice(argStart, macroEnd - 1) : '';
    out.push([text, args]);
  }
  return out;
}

export function interpolateMacros(sql: string, ctx: QueryContext): string {
  let raw = sql;
  for (const [name, fn] of Object.entries(MACROS)) {
    for (const [text, argString] of macroMatches(raw, name)) {
      const args = argString.split(',').map((s) => s.trim());
      raw = raw.split(text).join(fn(ctx, args));
    }
  }
  return raw;
}

/** The whole path: what ClickHouse receives for a panel query. */
export function expandPanelSql(sql: string, vars: readonly TemplateVariable[], ctx: QueryContext): string {
  return interpolateMacros(replaceVariables(applyConditionalAll(sql, vars), vars), ctx);
}

import { scanText } from '../../src/pii/scan.js';
import type { PiiFinding, PiiType } from '../../src/pii/types.js';
import { PII_TYPES } from '../../src/pii/types.js';

export interface TypeScore {
  type: PiiType | 'micro';
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
  f1: number;
}

export interface EvalReport {
  scores: TypeScore[];
  micro: TypeScore;
  /** Findings reported in examples that contain no PII at all. */
  hardNegativeFp: number;
  hardNegativeExamples: number;
  /** Hard-negative examples with at least one finding. */
  hardNegativeFlagged: number;
  errors: Array<{ id: string; kind: 'fp' | 'fn'; type: PiiType; value: string }>;
}

function score(type: TypeScore['type'], tp: number, fp: number, fn: number): TypeScore {
  const precision = tp + fp === 0 ? 1 : tp / (tp + fp);
  const recall = tp + fn === 0 ? 1 : tp / (tp + fn);
  const f1 = precision + recall === 0 ? 0 : (2 * precision * recall) / (precision + recall);
  return { type, tp, fp, fn, precision, recall, f1 };
}

/** Exact-span scoring: a prediction counts only with the right type, start and end. */
export function evaluate(
  examples: ReadonlyArray<{ id: string; kind?: string; text: string; findings: PiiFinding[] }>,
  scan: (text: string) => PiiFinding[] = (t) => scanText(t),
): EvalReport {
  const c = new Map<PiiType, { tp: number; fp: number; fn: number }>(
    PII_TYPES.map((t) => [t, { tp: 0, fp: 0, fn: 0 }]),
  );
  let hardNegativeFp = 0;
  let hardNegativeExamples = 0;
  let hardNegativeFlagged = 0;
  const errors: EvalReport['errors'] = [];
  for (const ex of examples) {
    const predicted = scan(ex.text);
    const key = (f: PiiFinding) => `${f.type}:${f.start}:${f.end}`;
    const gold = new Set(ex.findings.map(key));
    const got = new Set(predicted.map(key));
    if (ex.findings.length === 0 && ex.kind === 'negative') {
      hardNegativeExamples++;
      hardNegativeFp += predicted.length;
      if (predicted.length > 0) hardNegativeFlagged++;
    }
    for (const f of predicted) {
      if (gold.has(key(f))) c.get(f.type)!.tp++;
      else {
        c.get(f.type)!.fp++;
        errors.push({ id: ex.id, kind: 'fp', type: f.type, value: ex.text.slice(f.start, f.end) });
      }
    }
    for (const f of ex.findings)
      if (!got.has(key(f))) {
        c.get(f.type)!.fn++;
        errors.push({ id: ex.id, kind: 'fn', type: f.type, value: ex.text.slice(f.start, f.end) });
      }
  }
  const scores = PII_TYPES.map((t) => {
    const x = c.get(t)!;
    return score(t, x.tp, x.fp, x.fn);
  });
  const sum = (k: 'tp' | 'fp' | 'fn') => scores.reduce((n, s) => n + s[k], 0);
  const micro = score('micro', sum('tp'), sum('fp'), sum('fn'));
  return { scores, micro, hardNegativeFp, hardNegativeExamples, hardNegativeFlagged, errors };
}

export function markdownTable(report: EvalReport): string {
  const row = (s: TypeScore) =>
    `| ${s.type} | ${s.tp + s.fn} | ${s.tp} | ${s.fp} | ${s.fn} | ${s.precision.toFixed(3)} | ${s.recall.toFixed(3)} | ${s.f1.toFixed(3)} |`;
  return [
    '| type | gold | TP | FP | FN | precision | recall | F1 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
    ...report.scores.map(row),
    row(report.micro).replace('| micro |', '| **micro** |'),
    '',
    `Hard-negative examples: ${report.hardNegativeExamples}, findings on them: ${report.hardNegativeFp}, examples with any finding: ${report.hardNegativeFlagged} (${((100 * report.hardNegativeFlagged) / Math.max(1, report.hardNegativeExamples)).toFixed(1)} %).`,
  ].join('\n');
}

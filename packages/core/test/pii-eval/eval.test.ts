import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { PiiFinding } from '../../src/pii/types.js';
import { generateCorpus } from './corpus.js';
import { evaluate, markdownTable } from './metrics.js';

const file = join(dirname(fileURLToPath(import.meta.url)), 'corpus.jsonl');
const examples = readFileSync(file, 'utf8')
  .trim()
  .split('\n')
  .map((l) => JSON.parse(l) as { id: string; kind: string; text: string; findings: PiiFinding[] });

describe('PII evaluation corpus', () => {
  it('corpus.jsonl is what the generator produces (labels exact by construction)', () => {
    const fresh = generateCorpus();
    expect(examples.length).toBe(fresh.length);
    expect(examples.map((e) => JSON.stringify(e))).toEqual(
      fresh.map((e) =>
        JSON.stringify({ id: e.id, kind: e.kind, lang: e.lang, text: e.text, findings: e.findings }),
      ),
    );
    for (const e of examples) for (const f of e.findings) expect(f.end).toBeGreaterThan(f.start);
    expect(examples.filter((e) => e.kind === 'negative').length / examples.length).toBeGreaterThan(1 / 3);
  });

  it('reaches micro-F1 >= 0.97 and almost no false positives on hard negatives', () => {
    const report = evaluate(examples);
    process.stdout.write(`\n${markdownTable(report)}\n`);
    expect(report.micro.f1).toBeGreaterThanOrEqual(0.97);
    for (const s of report.scores) expect(s.f1, s.type).toBeGreaterThanOrEqual(0.95);
    expect(report.hardNegativeFp / report.hardNegativeExamples).toBeLessThanOrEqual(0.005);
  });
});

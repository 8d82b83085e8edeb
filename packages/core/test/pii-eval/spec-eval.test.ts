import { describe, expect, it } from 'vitest';
import { evaluate, markdownTable } from './metrics.js';
import { generateSpecCorpus } from './spec-corpus.js';

describe('PII evaluation corpus generated from the formats’ specifications', () => {
  const examples = generateSpecCorpus();

  it('has at least 1,500 cases, a third of them hard negatives, with exact labels', () => {
    expect(examples.length).toBeGreaterThanOrEqual(1500);
    expect(examples.filter((e) => e.kind === 'negative').length / examples.length).toBeGreaterThan(1 / 3);
    for (const e of examples)
      for (const f of e.findings) {
        expect(f.end).toBeGreaterThan(f.start);
        expect(e.text.slice(f.start, f.end).trim()).toBe(e.text.slice(f.start, f.end));
      }
    // Seeded: the same corpus on every run.
    expect(generateSpecCorpus(50).map((e) => e.text)).toEqual(examples.slice(0, 50).map((e) => e.text));
  });

  it('reaches micro-F1 >= 0.97 and flags at most 1 % of hard-negative cases', () => {
    const report = evaluate(examples);
    process.stdout.write(`\n${markdownTable(report)}\n`);
    expect(report.micro.f1).toBeGreaterThanOrEqual(0.97);
    expect(report.hardNegativeFlagged / report.hardNegativeExamples).toBeLessThanOrEqual(0.01);
  });
});

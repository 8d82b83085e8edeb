import { evaluate, markdownTable } from './metrics.js';
import { generateSpecCorpus } from './spec-corpus.js';

/** Per-type table of the spec-generated corpus and its first N errors (default 60): `… spec-report.ts [N]`. */
const report = evaluate(generateSpecCorpus());
process.stdout.write(`${markdownTable(report)}\n\n`);
for (const e of report.errors.slice(0, Number(process.argv[2] ?? 60)))
  process.stdout.write(`${e.kind} ${e.type} ${JSON.stringify(e.value)} ${e.id}\n`);

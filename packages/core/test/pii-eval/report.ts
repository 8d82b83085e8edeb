import { generateCorpus } from './corpus.js';
import { evaluate, markdownTable } from './metrics.js';

/** Prints the per-type table and the first N errors (default 60): `… report.ts [N]`. */
const report = evaluate(generateCorpus());
process.stdout.write(`${markdownTable(report)}\n\n`);
for (const e of report.errors.slice(0, Number(process.argv[2] ?? 60)))
  process.stdout.write(`${e.kind} ${e.type} ${JSON.stringify(e.value)} ${e.id}\n`);

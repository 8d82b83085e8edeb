import { generateCorpus } from './corpus.js';
import { evaluate, markdownTable } from './metrics.js';
const c = generateCorpus();
const r = evaluate(c);
console.log(markdownTable(r));
const byKey = new Map<string, number>();
for (const e of r.errors) byKey.set(`${e.kind} ${e.type}`, (byKey.get(`${e.kind} ${e.type}`) ?? 0) + 1);
console.log(byKey);
for (const e of r.errors.slice(0, Number(process.argv[2] ?? 60)))
  console.log(e.kind, e.type, JSON.stringify(e.value), e.id);

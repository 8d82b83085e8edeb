import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateCorpus } from './corpus.js';

/** Regenerates corpus.jsonl: `node --import tsx packages/core/test/pii-eval/write-corpus.ts`. */
const file = join(dirname(fileURLToPath(import.meta.url)), 'corpus.jsonl');
const lines = generateCorpus().map((e) =>
  JSON.stringify({ id: e.id, kind: e.kind, lang: e.lang, text: e.text, findings: e.findings }),
);
writeFileSync(file, lines.join('\n') + '\n');
process.stdout.write(`${lines.length} examples → ${file}\n`);

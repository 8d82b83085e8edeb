import { stopwords } from '@llmwatch/core';
import { tokenize } from '../enrich/features.js';

/**
 * Cheap lexical evidence for the RAG diagnosis (docs/rag.md): which content words a question,
 * a document and an answer share. Deliberately simple — lowercase word tokens without function
 * words, folded to a crude stem — so that it runs on every trace without a model, and is explained
 * in one sentence in the evidence it produces.
 */

const FUNCTION_WORDS = new Set([
  ...stopwords(),
  // English question and filler words the language stopword lists leave out.
  ...'about also an any at been but by could did does from had has here if into its just let me more most much no nor or our please should so some such than their them then there these they those through too under up us very was were when where which who whom why will would yes'.split(
    ' ',
  ),
]);

/** Folds common English inflections so "refunds"/"refunded"/"refund" meet. */
export function stem(word: string): string {
  if (word.length <= 4) return word;
  for (const suffix of ['ations', 'ation', 'ings', 'ing', 'edly', 'ed', 'ies', 'es', 'ly', 's']) {
    if (word.endsWith(suffix) && word.length - suffix.length >= 3) {
      const base = word.slice(0, -suffix.length);
      return suffix === 'ies' ? `${base}y` : base;
    }
  }
  return word;
}

/** The distinct content terms of a text (stemmed, function words and 1–2 letter words dropped). */
export function contentTerms(text: string): Set<string> {
  const terms = new Set<string>();
  for (const token of tokenize(text)) {
    if (FUNCTION_WORDS.has(token)) continue;
    if (token.length < 3 && !/^\d+$/.test(token)) continue;
    terms.add(stem(token));
  }
  return terms;
}

/** Share of `query`'s terms found in `target` (0 when the query has none). */
export function coverage(query: ReadonlySet<string>, target: ReadonlySet<string>): number {
  if (query.size === 0) return 0;
  let hit = 0;
  for (const t of query) if (target.has(t)) hit++;
  return hit / query.size;
}

/**
 * How much of what the answer says beyond restating the question is found in the retrieved
 * context: the answer's terms minus the question's, covered by the context's terms. An answer
 * that adds nothing new is trivially grounded (1).
 */
export function groundedness(
  answer: ReadonlySet<string>,
  question: ReadonlySet<string>,
  context: ReadonlySet<string>,
): { score: number; unsupported: string[] } {
  const claims = [...answer].filter((t) => !question.has(t));
  if (claims.length === 0) return { score: 1, unsupported: [] };
  const unsupported = claims.filter((t) => !context.has(t));
  return { score: 1 - unsupported.length / claims.length, unsupported };
}

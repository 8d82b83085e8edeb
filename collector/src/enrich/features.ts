import { STOPWORDS_BY_LANGUAGE, type LlmCall } from '@llmwatch/core';

/**
 * Size, language and content sketch of a call, stored with it in llm_calls for the drift
 * detectors. This runs on the ingest hot path for every LLM span, so it is linear in the text,
 * allocation-light, and never throws.
 */
export interface CallFeatures {
  inputChars: number;
  outputChars: number;
  /** ISO 639-1 code, 'und' when text is present but undecidable, '' when there is no text. */
  language: string;
  /** L2-normalized hashed n-gram vector of the input text ([] when there is no text). */
  inputSketch: number[];
  outputSketch: number[];
}

/** Dimensions of a content sketch. Small on purpose: centroids stay cheap to average in ClickHouse. */
export const SKETCH_DIM = 64;
/** Only the head of a long text is sketched: enough to see what it is about, bounded cost. */
const MAX_SKETCH_CHARS = 8_000;

export function computeFeatures(call: Pick<LlmCall, 'inputContent' | 'outputContent'>): CallFeatures {
  try {
    const input = messageText(call.inputContent);
    const output = messageText(call.outputContent);
    return {
      inputChars: input.length,
      outputChars: output.length,
      language: detectLanguage(input || output),
      inputSketch: textSketch(input),
      outputSketch: textSketch(output),
    };
  } catch {
    return { inputChars: 0, outputChars: 0, language: '', inputSketch: [], outputSketch: [] };
  }
}

/**
 * The human text of a GenAI messages JSON value (`[{role, parts:[{type:'text', content}]}]`),
 * also accepting the older `{role, content}` shape; text that is not JSON is taken as it is.
 */
export function messageText(content: string): string {
  if (!content) return '';
  const first = content.trimStart()[0];
  if (first !== '[' && first !== '{') return content;
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch {
    return content;
  }
  const out: string[] = [];
  collectText(parsed, out, 0);
  return out.join('\n');
}

function collectText(value: unknown, out: string[], depth: number): void {
  if (depth > 6 || value === null || value === undefined) return;
  if (typeof value === 'string') {
    out.push(value);
    return;
  }
  if (Array.isArray(value)) {
    for (const v of value) collectText(v, out, depth + 1);
    return;
  }
  if (typeof value !== 'object') return;
  const obj = value as Record<string, unknown>;
  if (Array.isArray(obj.parts)) {
    for (const part of obj.parts) collectText(part, out, depth + 1);
    return;
  }
  const type = obj.type;
  // Tool calls, blobs and URIs are not prose: they would swamp the sketch with identifiers.
  if (type !== undefined && type !== 'text' && type !== 'reasoning') return;
  if (typeof obj.content === 'string') out.push(obj.content);
  else if (Array.isArray(obj.content)) collectText(obj.content, out, depth + 1);
  else if (typeof obj.text === 'string') out.push(obj.text);
}

// FNV-1a over UTF-16 code units: fast, deterministic across processes and platforms.
const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
// Continues an FNV-1a state over `s`, so a bigram "a b" hashes from the state of "a" without
// building the joined string (same value as hashing the joined string from scratch).
function fnvMore(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, FNV_PRIME);
  }
  return h >>> 0;
}
const SPACE = 0x20;

// Every script the regexes below look for (CJK, Thai, Cyrillic, Greek, ...) lies at or above
// U+0370, so text without such a code unit can skip them: most prompts are Latin-script.
const FIRST_NON_LATIN = 0x0370;
function hasNonLatin(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) >= FIRST_NON_LATIN) return true;
  return false;
}

const TOKEN = /[\p{L}\p{N}]+/gu;
const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\p{Script=Thai}]/u;

/** Word tokens; unspaced scripts (CJK, Thai) become character bigrams. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.slice(0, MAX_SKETCH_CHARS).toLowerCase().matchAll(TOKEN)) {
    const word = match[0];
    if (word.length > 2 && hasNonLatin(word) && CJK.test(word)) {
      for (let i = 0; i + 1 < word.length; i++) tokens.push(word.slice(i, i + 2));
    } else tokens.push(word);
  }
  return tokens;
}

/**
 * Feature hashing of word unigrams and bigrams into SKETCH_DIM signed buckets, L2-normalized:
 * texts about the same things land near each other, so a shift of the average sketch of a
 * prompt's traffic means the content shifted (Weinberger et al., "Feature Hashing", 2009).
 */
export function textSketch(text: string): number[] {
  if (!text) return [];
  const v = new Float64Array(SKETCH_DIM);
  if (isAscii(text, MAX_SKETCH_CHARS)) sketchAscii(text, v);
  else {
    let prevHash = -1;
    for (const token of tokenize(text)) {
      // Function words say nothing about the topic and would dominate a small sketch.
      if (token.length < 2 || STOPWORDS.has(token)) continue;
      const h = fnvMore(FNV_OFFSET, token);
      add(v, h, 1);
      if (prevHash >= 0) add(v, fnvMore(Math.imul(prevHash ^ SPACE, FNV_PRIME), token), 0.5);
      prevHash = h;
    }
  }
  let norm = 0;
  for (let i = 0; i < SKETCH_DIM; i++) norm += v[i]! * v[i]!;
  if (norm === 0) return [];
  const scale = 1 / Math.sqrt(norm);
  const out = new Array<number>(SKETCH_DIM);
  // Rounded to float32 precision so stored and recomputed values compare equal.
  for (let i = 0; i < SKETCH_DIM; i++) out[i] = Math.fround(v[i]! * scale);
  return out;
}

function add(v: Float64Array, h: number, weight: number): void {
  v[h % SKETCH_DIM]! += (h & 0x8000_0000) === 0 ? weight : -weight;
}

/*
 * ASCII fast path. Most prompts are plain ASCII; for them tokens are [a-z0-9]+ runs after
 * lowercasing, so one pass over the char codes can hash them without the Unicode regex, the
 * lowercased copy or a string per token. It yields exactly the values of the general path.
 */
function isAscii(text: string, limit: number): boolean {
  const end = Math.min(text.length, limit);
  for (let i = 0; i < end; i++) if (text.charCodeAt(i) >= 0x80) return false;
  return true;
}

/** The lowercased ASCII letter or digit at `i`, or -1 when it is not one. */
function wordCode(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c | 0x20;
  if (c >= 48 && c <= 57) return c;
  return -1;
}

/** Calls `onToken` with the FNV-1a hash, start and length of each token of the first `limit` chars. */
function scanAsciiTokens(
  text: string,
  limit: number,
  onToken: (hash: number, start: number, length: number) => void,
): void {
  const end = Math.min(text.length, limit);
  let h = FNV_OFFSET;
  let start = -1;
  for (let i = 0; i < end; i++) {
    const c = wordCode(text, i);
    if (c >= 0) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET;
      }
      h = Math.imul(h ^ c, FNV_PRIME);
    } else if (start >= 0) {
      onToken(h >>> 0, start, i - start);
      start = -1;
    }
  }
  if (start >= 0) onToken(h >>> 0, start, end - start);
}

/** The stopword spelled by text[start, start + length) (lowercased), if any. */
function asciiStopword(text: string, hash: number, start: number, length: number): string | undefined {
  const word = STOPWORD_BY_HASH.get(hash);
  if (word === undefined || word.length !== length) return undefined;
  // A hash match is only a candidate: compare the letters so a collision never drops a token.
  for (let i = 0; i < length; i++) if (wordCode(text, start + i) !== word.charCodeAt(i)) return undefined;
  return word;
}

function sketchAscii(text: string, v: Float64Array): void {
  let prevHash = -1;
  scanAsciiTokens(text, MAX_SKETCH_CHARS, (h, start, length) => {
    if (length < 2 || asciiStopword(text, h, start, length) !== undefined) return;
    add(v, h, 1);
    if (prevHash >= 0) {
      let bigram = Math.imul(prevHash ^ SPACE, FNV_PRIME);
      for (let i = start; i < start + length; i++) bigram = Math.imul(bigram ^ wordCode(text, i), FNV_PRIME);
      add(v, bigram >>> 0, 0.5);
    }
    prevHash = h;
  });
}

function votesAscii(sample: string): string {
  const votes = new Map<string, number>();
  let best = 'und';
  let bestVotes = 0;
  scanAsciiTokens(sample, sample.length, (h, start, length) => {
    const word = asciiStopword(sample, h, start, length);
    if (word === undefined) return;
    const lang = STOPWORDS.get(word)!;
    const n = (votes.get(lang) ?? 0) + 1;
    votes.set(lang, n);
    if (n > bestVotes) {
      bestVotes = n;
      best = lang;
    }
  });
  return best;
}

const SCRIPTS: Array<[RegExp, string]> = [
  [/[\p{Script=Hiragana}\p{Script=Katakana}]/u, 'ja'],
  [/\p{Script=Hangul}/u, 'ko'],
  [/\p{Script=Han}/u, 'zh'],
  [/\p{Script=Cyrillic}/u, 'ru'],
  [/\p{Script=Arabic}/u, 'ar'],
  [/\p{Script=Hebrew}/u, 'he'],
  [/\p{Script=Greek}/u, 'el'],
  [/\p{Script=Devanagari}/u, 'hi'],
  [/\p{Script=Thai}/u, 'th'],
];

// Language votes come from the stopword table in core (STOPWORDS_BY_LANGUAGE).
// A Map, not an object: `'constructor' in {}` is true and would count as a stopword.
const STOPWORDS = new Map<string, string>();
const STOPWORD_BY_HASH = new Map<number, string>();
for (const [lang, words] of Object.entries(STOPWORDS_BY_LANGUAGE)) {
  for (const w of words) {
    if (STOPWORDS.has(w)) continue;
    STOPWORDS.set(w, lang);
    STOPWORD_BY_HASH.set(fnvMore(FNV_OFFSET, w), w);
  }
}

/** Script first, then stopword votes for Latin-script text; 'und' when nothing decides. */
export function detectLanguage(text: string): string {
  if (!text) return '';
  const sample = text.slice(0, 2_000);
  if (isAscii(sample, sample.length)) return votesAscii(sample);
  if (hasNonLatin(sample)) for (const [re, lang] of SCRIPTS) if (re.test(sample)) return lang;
  const votes = new Map<string, number>();
  let best = 'und';
  let bestVotes = 0;
  for (const match of sample.toLowerCase().matchAll(TOKEN)) {
    const lang = STOPWORDS.get(match[0]);
    if (!lang) continue;
    const n = (votes.get(lang) ?? 0) + 1;
    votes.set(lang, n);
    if (n > bestVotes) {
      bestVotes = n;
      best = lang;
    }
  }
  return bestVotes >= 1 ? best : 'und';
}

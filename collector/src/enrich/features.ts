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
/** Only the head of a text is read for its language. */
const LANGUAGE_SAMPLE_CHARS = 2_000;

export function computeFeatures(call: Pick<LlmCall, 'inputContent' | 'outputContent'>): CallFeatures {
  try {
    const input = messageText(call.inputContent);
    const output = messageText(call.outputContent);
    // The language is the input's (the output's when there is no input). On the ASCII path the
    // sketch's scan counts its votes too, so the text is not scanned a second time.
    const ballot = new Ballot();
    const inputSketch = sketch(input, input ? ballot : null);
    const outputSketch = sketch(output, input ? null : ballot);
    return {
      inputChars: input.length,
      outputChars: output.length,
      language: ballot.counted ? ballot.language() : detectLanguage(input || output),
      inputSketch,
      outputSketch,
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
  return sketch(text, null);
}

/**
 * Where sketch sums a text's buckets, one for every call: a Float64Array of this size lives
 * outside the JS heap, and allocating one per sketch took a fifth as long as the ASCII scan
 * itself in a profile of the ingest pipeline.
 */
const buckets = new Float64Array(SKETCH_DIM);

/** textSketch; on the ASCII path also the stopword votes of the text's language sample, in `ballot`. */
function sketch(text: string, ballot: Ballot | null): number[] {
  if (!text) return [];
  const v = buckets;
  v.fill(0);
  if (!scanAscii(text, v, ballot)) {
    v.fill(0);
    ballot?.reset();
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

/** `h` as uint32 or as int32 (the same bits): the low bits pick the bucket, the top bit the sign. */
function add(v: Float64Array, h: number, weight: number): void {
  v[h & (SKETCH_DIM - 1)]! += (h & 0x8000_0000) === 0 ? weight : -weight;
}

/*
 * ASCII fast path. Most prompts are plain ASCII; for them tokens are [a-z0-9]+ runs after
 * lowercasing, so one pass over the char codes can hash them without the Unicode regex, the
 * lowercased copy or a string per token. It yields exactly the values of the general path.
 */
/** What wordCode returns for a character outside ASCII: the scan is for the general path. */
const NOT_ASCII = -2;

/** The lowercased ASCII letter or digit at `i`, -1 for other ASCII, NOT_ASCII beyond. */
function wordCode(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 97 && c <= 122) return c;
  if (c >= 65 && c <= 90) return c | 0x20;
  if (c >= 48 && c <= 57) return c;
  return c < 0x80 ? -1 : NOT_ASCII;
}

/*
 * Stopwords by FNV-1a hash in an open-addressing table of typed arrays: the ASCII scans look up
 * every token, and a Map lookup per token was most of their cost.
 */
const STOPWORD_WORDS: string[] = [];
/** Index in LANGUAGES of each word of STOPWORD_WORDS. */
const STOPWORD_LANGUAGE: number[] = [];
const LANGUAGES: string[] = [];
const STOPWORD_SLOTS = 1024;
const SLOT_MASK = STOPWORD_SLOTS - 1;
/** Hashes as int32: the scans keep theirs in int32 so V8 never boxes them as doubles. */
const SLOT_HASH = new Int32Array(STOPWORD_SLOTS);
/** Index + 1 in STOPWORD_WORDS of the word in each slot; 0 for an empty slot. */
const SLOT_WORD = new Int32Array(STOPWORD_SLOTS);

/** The index in STOPWORD_WORDS of the stopword spelled by text[start, start + length) (lowercased), or -1. */
function asciiStopword(text: string, hash: number, start: number, length: number): number {
  for (let slot = hash & SLOT_MASK; SLOT_WORD[slot] !== 0; slot = (slot + 1) & SLOT_MASK) {
    if (SLOT_HASH[slot] !== hash) continue;
    const index = SLOT_WORD[slot]! - 1;
    const word = STOPWORD_WORDS[index]!;
    // A hash match is only a candidate: compare the letters so a collision never drops a token.
    if (word.length !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = wordCode(text, start + i) === word.charCodeAt(i);
    if (same) return index;
  }
  return -1;
}

/** Stopword votes by language: the first language to lead with the most votes wins. */
class Ballot {
  private readonly votes = new Int32Array(LANGUAGES.length);
  private best = -1;
  private bestVotes = 0;
  /** Whether a scan counted the votes (the ASCII path); otherwise detectLanguage has to. */
  counted = false;

  /** Back to no votes, after an ASCII scan that met a non-ASCII character. */
  reset(): void {
    this.votes.fill(0);
    this.best = -1;
    this.bestVotes = 0;
    this.counted = false;
  }

  /** One vote for the language of STOPWORD_WORDS[word]; none when `word` is -1. */
  cast(word: number): void {
    if (word < 0) return;
    const lang = STOPWORD_LANGUAGE[word]!;
    const n = ++this.votes[lang]!;
    if (n > this.bestVotes) {
      this.bestVotes = n;
      this.best = lang;
    }
  }

  language(): string {
    return this.best < 0 ? 'und' : LANGUAGES[this.best]!;
  }
}

/*
 * One loop over the [a-z0-9]+ tokens of the first MAX_SKETCH_CHARS chars, hashing as it goes (a
 * callback per token kept V8 from inlining the hashing into the loop). It adds them to the sketch
 * `v` and casts the votes of the tokens of the language sample (the first LANGUAGE_SAMPLE_CHARS
 * chars, a token the sample cuts counting as cut) into `ballot`: exactly what
 * detectLanguage(text) counts. Returns false, half done, at the first character outside ASCII,
 * so an ASCII text is read once rather than checked first and scanned after.
 */
function scanAscii(text: string, v: Float64Array | null, ballot: Ballot | null): boolean {
  const end = Math.min(text.length, MAX_SKETCH_CHARS);
  const voteEnd = ballot ? Math.min(text.length, LANGUAGE_SAMPLE_CHARS) : -1;
  if (ballot) ballot.counted = true;
  let hasPrev = false;
  // FNV-1a state after "<previous kept token> ", so each char of a token extends both hashes.
  let bigramSeed = 0;
  let h = 0;
  let bigram = 0;
  let start = -1;
  for (let i = 0; i <= end; i++) {
    const c = i < end ? wordCode(text, i) : -1;
    if (c >= 0) {
      if (start < 0) {
        start = i;
        h = FNV_OFFSET | 0;
        bigram = bigramSeed;
      } else if (i === voteEnd) ballot!.cast(asciiStopword(text, h, start, i - start));
      h = Math.imul(h ^ c, FNV_PRIME);
      bigram = Math.imul(bigram ^ c, FNV_PRIME);
      continue;
    }
    if (c === NOT_ASCII) return false;
    if (start < 0) continue;
    const length = i - start;
    start = -1;
    const sampled = i <= voteEnd;
    // One-letter words vote (Spanish "y", French "a") but are not sketched.
    const word = length >= 2 || sampled ? asciiStopword(text, h, i - length, length) : -1;
    if (sampled) ballot!.cast(word);
    if (length < 2 || word >= 0 || !v) continue;
    add(v, h, 1);
    if (hasPrev) add(v, bigram, 0.5);
    bigramSeed = Math.imul(h ^ SPACE, FNV_PRIME);
    hasPrev = true;
  }
  return true;
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

/**
 * Each stopword's index in STOPWORD_WORDS; language votes come from the stopword table in core
 * (STOPWORDS_BY_LANGUAGE). A Map, not an object: `'constructor' in {}` is true and would count as
 * a stopword.
 */
const STOPWORDS = new Map<string, number>();
for (const [lang, words] of Object.entries(STOPWORDS_BY_LANGUAGE)) {
  LANGUAGES.push(lang);
  for (const w of words) {
    if (STOPWORDS.has(w)) continue;
    STOPWORDS.set(w, STOPWORD_WORDS.length);
    const hash = fnvMore(FNV_OFFSET, w) | 0;
    let slot = hash & SLOT_MASK;
    while (SLOT_WORD[slot] !== 0) slot = (slot + 1) & SLOT_MASK;
    STOPWORD_WORDS.push(w);
    STOPWORD_LANGUAGE.push(LANGUAGES.length - 1);
    SLOT_HASH[slot] = hash;
    SLOT_WORD[slot] = STOPWORD_WORDS.length;
  }
}

/** Script first, then stopword votes for Latin-script text; 'und' when nothing decides. */
export function detectLanguage(text: string): string {
  if (!text) return '';
  const sample = text.slice(0, LANGUAGE_SAMPLE_CHARS);
  const ballot = new Ballot();
  if (scanAscii(sample, null, ballot)) return ballot.language();
  ballot.reset();
  if (hasNonLatin(sample)) for (const [re, lang] of SCRIPTS) if (re.test(sample)) return lang;
  for (const match of sample.toLowerCase().matchAll(TOKEN)) ballot.cast(STOPWORDS.get(match[0]) ?? -1);
  return ballot.language();
}

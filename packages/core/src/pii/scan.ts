import { isHex } from './checks.js';
import { matchEmail, matchIpv6 } from './network.js';
import type { NumericWants } from './numeric.js';
import { scanNumeric } from './numeric.js';
import type { SecretEmit } from './secrets.js';
import {
  isTokenChar,
  keywordEnding,
  NON_LATIN_KEYWORD_CHARS,
  nonLatinKeywordAt,
  scanColon,
  scanCustom,
  scanKeywordAt,
  scanToken,
} from './secrets.js';
import type { PiiFinding, PiiScanOptions, PiiType } from './types.js';
import { PII_TYPES } from './types.js';

// Character classes of the single pass, for every UTF-16 code unit: one table lookup per
// character (no separate ASCII test). Non-ASCII characters end a token like any other
// non-token character (OTHER), except the few a detector starts at (SPECIAL): the first
// characters of non-Latin credential keywords and full-width / Arabic-Indic digits.
const OTHER = 0;
const TOKEN = 1;
const DIGIT = 2;
const AT = 3;
const COLON = 4;
const SPECIAL = 5;
const CLASS = new Uint8Array(0x10000);
for (let c = 0; c < 128; c++) CLASS[c] = isTokenChar(c) ? TOKEN : OTHER;
for (let c = 0x30; c <= 0x39; c++) CLASS[c] = DIGIT;
CLASS[0x40] = AT;
CLASS[0x3a] = COLON;
for (const c of NON_LATIN_KEYWORD_CHARS) CLASS[c] = SPECIAL;
for (let c = 0x80; c < 0x10000; c++) if (wideDigit(c) >= 0) CLASS[c] = SPECIAL;

/**
 * When findings overlap, the most specific type wins: a checksum-validated secret or card
 * beats an email or phone-looking part of it. Ties go to the longer, then the earlier span.
 */
const PRIORITY: Record<PiiType, number> = {
  secret: 7,
  credit_card: 6,
  iban: 5,
  us_ssn: 4,
  email: 3,
  ip_address: 2,
  phone: 1,
};

const ALL: NumericWants & { email: boolean; secret: boolean } = {
  phone: true,
  credit_card: true,
  us_ssn: true,
  ip_address: true,
  iban: true,
  email: true,
  secret: true,
};

function wants(types: readonly PiiType[] | undefined): typeof ALL {
  if (!types) return ALL;
  const w = { ...ALL };
  for (const t of PII_TYPES) w[t] = types.includes(t);
  return w;
}

/**
 * Findings of the scan in progress. The detectors report through the two module-level functions
 * below rather than through closures made per call: every call site then sees one call target,
 * and V8 does not deoptimize the scanner when the next document brings a new closure.
 */
let found: PiiFinding[] = [];

const charCodeAt = String.prototype.charCodeAt;

/**
 * `s.charCodeAt(i)` for scanText's loop, which reads every character. Ingest hands the scanner
 * strings in many internal forms (decoded from bytes, one- or two-byte, parsed from JSON, sliced,
 * concatenated), each with its own hidden class: written as a method call, the loop's
 * `charCodeAt` went megamorphic, a generic lookup per character that took about a quarter of the
 * PII stage (`pnpm bench pipeline-stages`, applyPiiPolicy, fastest of 11 rounds: 24–25 → 18–19
 * µs per span). Through this small function the optimizer inlines a plain character load
 * whatever the string's form. Only this loop: applied to the detectors' own reads as well, it
 * made scanning plain documents slower.
 */
function codeAt(s: string, i: number): number {
  return charCodeAt.call(s, i);
}

function emit(type: PiiType, start: number, end: number): void {
  if (end > start) found.push({ type, start, end });
}

function secret(start: number, end: number): void {
  emit('secret', start, end);
}

/**
 * V8 optimizes scanText while the first documents are scanned. A branch first taken after that
 * (the first email, IPv6 address, full-width phone number, ...) deoptimizes it, and V8 may then
 * keep running the scanner's loop through on-stack replacement: ~15% slower for the rest of the
 * process. So the first call scans a sample with every kind of finding a dozen times (V8 records
 * type feedback only from about the eighth call of a function on). The first of those pays the
 * one-time set-up any first scan pays (compiling the regexes, phone metadata: ~15 ms); the
 * repeats add ~2 ms.
 */
const WARM_UP = [
  'Mail maria.garcia@example.org or call +34 612 34 56 78, (415) 555-2671, 0044 20 7946 0958.',
  'Card 4111 1111 1111 1111, SSN 123-45-6789, IBAN DE89 3704 0044 0532 0130 00, GB82WEST12345698765432.',
  'Hosts 203.0.113.42, 10.0.0.0/8, 2001:db8::1 at 11:42:17; 電話 ０３－１２３４－５６７８, ٠١٢٣٤٥٦٧٨٩.',
  'OPENAI_API_KEY=sk-proj-8fK2mQ9xL4vN7bR1tY6uW3eZ0aS5dF2gH8jK password=hunter2! пароль: qwerty123 密码是abc12345',
  'postgres://app:Pa55w0rd!@db.internal:5432/prod Authorization: Bearer abcdefghijklmnopqrstuvwxyz123456',
  'Tel. 030/12345678, 06.12.34.56.78, SSN 219 09 9999; DB_PASSWORD=changeme mysql://root:${DB_PASS}@db/app',
  'deploy,,AKIA2E4NQ7ZXW5RT3JKL,Hq8v/3kZpL2mN9xR4tW7yB1cF6gJ0sD5aE+uK2iO,https://console',
].join('\n');
let warmedUp = false;

function warmUp(): void {
  warmedUp = true;
  for (let k = 0; k < 12; k++) scanText(WARM_UP);
}

/**
 * Finds personal data and secrets in `text`. Findings are sorted by start and never overlap.
 * Pure and synchronous; safe on any string (offsets are UTF-16 code-unit indices).
 */
export function scanText(text: string, options?: PiiScanOptions): PiiFinding[] {
  if (!warmedUp) warmUp();
  const want = wants(options?.types);
  // scanWideRun calls scanText again: keep the caller's findings aside until this scan is done.
  const outer = found;
  found = [];
  const n = text.length;
  const numeric = want.phone || want.credit_card || want.us_ssn || want.ip_address || want.iban;

  // One pass over the text for the character-anchored detectors and token-shaped secrets.
  // Runs of letters cost one table lookup per character; only digits, '@', ':', a few non-ASCII
  // characters and the ends of long tokens do any work.
  const secrets = want.secret;
  let tokStart = -1;
  let doneUntil = 0;
  for (let i = 0; i < n; i++) {
    let c = codeAt(text, i);
    let k = CLASS[c]!;
    if (k === TOKEN) {
      // Letters are most of the text: a tight loop over the run, then the character after it.
      if (tokStart < 0) tokStart = i;
      do i++;
      while (i < n && (k = CLASS[(c = codeAt(text, i))]!) === TOKEN);
      if (i === n) break;
    }
    if (k === DIGIT) {
      if (tokStart < 0) tokStart = i;
      if (!numeric) continue;
      const prev = i > 0 ? codeAt(text, i - 1) : 0;
      const next = scanNumeric(text, i, want, emit);
      // A numeric run may cross spaces: the token open at the landing point starts after the
      // last non-token character jumped over (none: the token that held the digit goes on).
      // A digit glued to a lower-case letter or '_' only skips the rest of its token (unless the
      // letter is a JSON escape like \n: then the digits start a run of their own).
      const glued =
        ((prev >= 0x61 && prev <= 0x7a) || prev === 0x5f) && !(i >= 2 && codeAt(text, i - 2) === 0x5c);
      if (!glued) {
        let t = next;
        while (t > i && isTokenChar(codeAt(text, t - 1))) t--;
        if (t > i) tokStart = t < next ? t : -1;
      }
      i = next - 1;
      continue;
    }
    if (tokStart >= 0) {
      if (secrets) doneUntil = tokenEnd(text, tokStart, i, doneUntil, secret);
      tokStart = -1;
    }
    if (k === OTHER) {
      // Spaces, punctuation and most non-ASCII text (CJK has no spaces between words): skip the run.
      while (i + 1 < n && CLASS[codeAt(text, i + 1)] === OTHER) i++;
      continue;
    }
    if (k === SPECIAL) {
      // Credential keywords of other scripts (пароль, 密码, パスワード, hasło, contraseña, …).
      if (secrets && i >= doneUntil && nonLatinKeywordAt(text, i)) {
        const end = scanKeywordAt(text, i, secret);
        if (end > 0) doneUntil = end;
      }
      // Full-width (０９０－１２３４) and Arabic-Indic digits: scan an ASCII twin of the run.
      if (numeric && wideDigit(c) >= 0) i = scanWideRun(text, i, want, emit) - 1;
      continue;
    }
    if (k === AT) {
      if (want.email) {
        const hit = matchEmail(text, i);
        if (hit) {
          emit('email', hit[0], hit[1]);
          i = hit[1] - 1;
        }
      }
      continue;
    }
    // ':'
    if (secrets && i >= doneUntil) {
      const end = scanColon(text, i, secret);
      if (end > 0) doneUntil = end;
    }
    if (want.ip_address && maybeV6(text, i)) {
      const { hit, next } = matchIpv6(text, i);
      if (hit) emit('ip_address', hit[0], hit[1]);
      i = Math.max(i, next - 1);
    }
  }
  if (tokStart >= 0 && secrets) tokenEnd(text, tokStart, n, doneUntil, secret);
  if (secrets) {
    if (options?.customSecretPatterns?.length) scanCustom(text, options.customSecretPatterns, secret);
  }
  const mine = found;
  found = outer;
  return resolveOverlaps(mine);
}

/** A token (run of TOKEN characters) ended at `end`: secrets shaped like tokens. Returns doneUntil. */
function tokenEnd(text: string, start: number, end: number, doneUntil: number, secret: SecretEmit): number {
  const len = end - start;
  if ((len >= 10 || (len >= 3 && keywordEnding(text, end))) && start >= doneUntil) {
    const e = scanToken(text, start, end, secret);
    if (e > 0) return e;
  }
  return doneUntil;
}

/** The ASCII digit of a full-width / Arabic-Indic / Extended Arabic-Indic digit, or -1. */
function wideDigit(c: number): number {
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10;
  if (c >= 0x660 && c <= 0x669) return c - 0x660;
  if (c >= 0x6f0 && c <= 0x6f9) return c - 0x6f0;
  return -1;
}

/** ASCII twin of a character of a wide-digit run (same length, so offsets carry over), or 0. */
function asciiTwin(c: number): number {
  const d = wideDigit(c);
  if (d >= 0) return 0x30 + d;
  if (c >= 0x30 && c <= 0x39) return c;
  switch (c) {
    case 0xff0d: // －
    case 0x2212:
    case 0x2d:
      return 0x2d;
    case 0xff08: // （
    case 0x28:
      return 0x28;
    case 0xff09: // ）
    case 0x29:
      return 0x29;
    case 0xff0b: // ＋
    case 0x2b:
      return 0x2b;
    case 0x3000: // ideographic space
    case 0x20:
      return 0x20;
    case 0xff0e: // ．
    case 0x2e:
      return 0x2e;
    default:
      return 0;
  }
}

/**
 * A run of full-width or Arabic-Indic digits (with their own separators): the numeric
 * detectors run on an ASCII twin of the run, findings keep their offsets. Returns the run end.
 */
function scanWideRun(
  text: string,
  i: number,
  want: typeof ALL,
  emit: (t: PiiType, s: number, e: number) => void,
): number {
  let s = i;
  if (s > 0 && (text.charCodeAt(s - 1) === 0xff0b || text.charCodeAt(s - 1) === 0xff08)) s--;
  if (s > 0 && text.charCodeAt(s - 1) === 0xff0b) s--;
  let e = i;
  let twin = '';
  for (let j = s; j < i; j++) twin += String.fromCharCode(asciiTwin(text.charCodeAt(j)));
  const n = text.length;
  while (e < n && e - i < 64) {
    const t = asciiTwin(text.charCodeAt(e));
    if (t === 0) break;
    twin += String.fromCharCode(t);
    e++;
  }
  // Context words before the run stay as they are (a phone word introduces the number).
  const ctx = Math.max(0, s - 24);
  const prefix = text.slice(ctx, s);
  const inner: PiiFinding[] = scanText(prefix + twin + ' ', {
    types: PII_TYPES.filter((t) => t !== 'email' && t !== 'secret' && want[t]),
  });
  for (const f of inner) if (f.start >= prefix.length) emit(f.type, ctx + f.start, Math.min(ctx + f.end, e));
  return Math.max(e, i + 1);
}

/** Cheap test before the IPv6 parser: another ':' within one hex group of this one. */
function maybeV6(text: string, i: number): boolean {
  const n = text.length;
  for (let j = i + 1; j < n && j <= i + 5; j++) {
    const c = text.charCodeAt(j);
    if (c === 0x3a) return true;
    if (!isHex(c)) break;
  }
  for (let j = i - 1; j >= 0 && j >= i - 5; j--) {
    const c = text.charCodeAt(j);
    if (c === 0x3a) return true;
    if (!isHex(c)) break;
  }
  return false;
}

function resolveOverlaps(found: PiiFinding[]): PiiFinding[] {
  if (found.length < 2) return found;
  // Usually found in order and disjoint: then every finding is kept as it is, no ranking needed.
  let disjoint = true;
  for (let x = 1; x < found.length && disjoint; x++) disjoint = found[x]!.start >= found[x - 1]!.end;
  if (disjoint) return found;
  const ranked = [...found].sort(
    (a, b) => PRIORITY[b.type] - PRIORITY[a.type] || b.end - b.start - (a.end - a.start) || a.start - b.start,
  );
  const kept: PiiFinding[] = [];
  for (const f of ranked) {
    // kept is sorted by start: binary search for the first kept span ending after f.start.
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (kept[mid]!.start < f.start) lo = mid + 1;
      else hi = mid;
    }
    const prev = kept[lo - 1];
    const next = kept[lo];
    if ((prev && prev.end > f.start) || (next && next.start < f.end)) continue;
    kept.splice(lo, 0, f);
  }
  return kept;
}

/** Replaces every finding by `[REDACTED:<type>]`; returns the new text and the findings (offsets into the input). */
export function redactText(text: string, options?: PiiScanOptions): { text: string; findings: PiiFinding[] } {
  const findings = scanText(text, options);
  if (findings.length === 0) return { text, findings };
  let out = '';
  let pos = 0;
  for (const f of findings) {
    out += text.slice(pos, f.start) + `[REDACTED:${f.type}]`;
    pos = f.end;
  }
  return { text: out + text.slice(pos), findings };
}

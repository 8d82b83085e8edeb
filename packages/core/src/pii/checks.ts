/** Checksums and small character-class helpers shared by the detectors. */

export function luhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** ISO 13616 check: move the first four characters to the end, letters → 10..35, mod 97 = 1. */
export function ibanMod97Valid(iban: string): boolean {
  const s = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 48 && c <= 57) rem = (rem * 10 + (c - 48)) % 97;
    else if (c >= 65 && c <= 90) rem = (rem * 100 + (c - 55)) % 97;
    else return false;
  }
  return rem === 1;
}

let crcTable: Uint32Array | undefined;
export function crc32(s: string): number {
  const table = (crcTable ??= (() => {
    const t = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      t[n] = c >>> 0;
    }
    return t;
  })());
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) crc = table[(crc ^ s.charCodeAt(i)) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
export function base62(n: number, width: number): string {
  let out = '';
  let v = n;
  while (v > 0) {
    out = BASE62[v % 62]! + out;
    v = Math.floor(v / 62);
  }
  return out.padStart(width, '0');
}

/**
 * Character classes by code unit. ASCII letters, digits and `_` glue a token together; so do
 * letters of space-separated scripts (Latin, Greek, Cyrillic, ...). CJK, kana, Thai etc. do not:
 * those scripts write numbers right next to words, so they act as a boundary.
 */
export function isWordChar(c: number): boolean {
  if (c < 128) return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
  return (c >= 0xc0 && c <= 0x24f) || (c >= 0x370 && c <= 0x52f) || (c >= 0x1e00 && c <= 0x1eff);
}

export function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

export function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102);
}

export function isUpper(c: number): boolean {
  return c >= 65 && c <= 90;
}

export function isAlnum(c: number): boolean {
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
}

/** Few distinct characters or a long single-character run: an `xxxx` / `<your key>` placeholder. */
export function looksLikePlaceholder(s: string): boolean {
  if (
    /x{5,}|X{5,}|\*{3,}|•{3,}|0{8,}|(?:your|my)[_-]?(?:api[_-]?)?(?:key|token|secret|password)|your[_-]|[_-]here(?![a-z])|<[^>]*>|\$\{|\{\{|\.\.\.|…/i.test(
      s,
    )
  )
    return true;
  const seen = new Set<number>();
  for (let i = 0; i < s.length && seen.size < 8; i++) seen.add(s.charCodeAt(i));
  return s.length >= 12 && seen.size < 6;
}

/**
 * A value that stands where a credential goes without being one: a template variable or
 * environment reference (`<password>`, `${DB_PASS}`, `$DB_PASS`, `%(password)s`, `%DB_PASS%`,
 * `{{secret}}`, `{password}`, `:password`), a masked or elided value (`****`, `xxxxx`, `•••`,
 * `sk-...`), or a word documentation and templates put there (`changeme`, `your-api-key-here`,
 * `PASSWORD_HERE`, `REDACTED`, `placeholder`, `dummy`), including the default credentials of
 * documentation and local setups (`postgres`, `admin`, `root`, `guest`).
 */
export function isPlaceholderValue(v: string): boolean {
  if (PLACEHOLDER_SHAPE.test(v) || looksLikePlaceholder(v)) return true;
  // Words only (no digits or symbols a chosen password has): `PASSWORD_HERE`, `change-me`.
  return /^[A-Za-z_.-]+$/.test(v) && PLACEHOLDER_WORD.test(v);
}

const PLACEHOLDER_SHAPE =
  /^(?:<[^>]*>?|\$\{.*|\$\(.*|\$[A-Z_][A-Z0-9_]*|\$[a-z_]+|%\(?[A-Za-z_][\w.]*\)?[sd]?%?|\{\{.*|\{[A-Za-z_][\w.-]*\}|\[[^\]]*\]?|:[A-Za-z_]\w*|[*•xX#._-]+)$/;
const PLACEHOLDER_WORD =
  /(?:^|[_.-])(?:change[_-]?me|change[_-]?it|placeholder|dummy|redacted|censored|masked|hidden|example|sample|secret|password|passwd|pass|pwd|token|key|none|null|nil|undefined|todo|tbd|fixme|foo|bar|foobar|test|here|value|string|admin|root|guest|user|postgres|mysql|default|demo)(?:$|[_.-])|^(?:your|my|insert|enter|replace|put|add|type|set)[_-]|redacted|changeme/i;

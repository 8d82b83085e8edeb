import { isHex, isWordChar } from './checks.js';

/**
 * Email addresses and IPv6 addresses: both are found from a rare anchor character ('@', ':')
 * and expanded left and right, so ordinary prose costs nothing.
 */

/** A word character that is really the letter of a JSON/C escape (`\n`, `\t`, ...) is a boundary. */
export function gluedBefore(text: string, pos: number): boolean {
  if (pos <= 0) return false;
  const c = text.charCodeAt(pos - 1);
  if (!isWordChar(c)) return false;
  return !(pos >= 2 && text.charCodeAt(pos - 2) === 0x5c && (c === 0x6e || c === 0x74 || c === 0x72));
}

function isLocalChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 0x2e ||
    c === 0x5f ||
    c === 0x25 ||
    c === 0x2b ||
    c === 0x2d ||
    (c >= 0xc0 && isWordChar(c))
  );
}

function isDomainChar(c: number): boolean {
  return (
    (c >= 48 && c <= 57) ||
    (c >= 65 && c <= 90) ||
    (c >= 97 && c <= 122) ||
    c === 0x2d ||
    c === 0x2e ||
    (c >= 0xc0 && isWordChar(c))
  );
}

// "icon@2x.png", "logo@3x.webp": asset names, not addresses.
const FILE_TLDS = new Set([
  'png',
  'jpg',
  'jpeg',
  'gif',
  'svg',
  'webp',
  'ico',
  'bmp',
  'css',
  'scss',
  'js',
  'mjs',
  'cjs',
  'ts',
  'tsx',
  'jsx',
  'json',
  'map',
  'yml',
  'yaml',
  'lock',
  'txt',
  'html',
  'htm',
  'vue',
  'ini',
  'cfg',
  'toml',
  'xml',
  'csv',
  'log',
  'pdf',
  'zip',
  'gz',
  'tgz',
  'exe',
  'dll',
  'wasm',
  'node',
]);

/**
 * The local part starting at `s` is a URL's user or password (`scheme://user@host`,
 * `scheme://user:password@host`), not a mailbox.
 */
function urlUserinfo(text: string, s: number): boolean {
  // Walk back through the authority (no '/', space or quote in it) to the "://" before it.
  for (let j = s - 1; j >= 2 && s - j < 128; j--) {
    const c = text.charCodeAt(j);
    if (c === 0x2f) return text.charCodeAt(j - 1) === 0x2f && text.charCodeAt(j - 2) === 0x3a;
    if (c <= 0x20 || c === 0x22 || c === 0x27 || c === 0x40) return false;
  }
  return false;
}

/** The email around the '@' at `at`, as [start, end], or null. */
export function matchEmail(text: string, at: number): [number, number] | null {
  let s = at;
  while (s > 0 && isLocalChar(text.charCodeAt(s - 1))) s--;
  // "\njohn@…" inside JSON: the escape letter is not part of the address.
  if (s >= 1 && s < at && text.charCodeAt(s - 1) === 0x5c) s++;
  while (s < at && (text.charCodeAt(s) === 0x2e || text.charCodeAt(s) === 0x2d)) s++;
  if (s === at || at - s > 64) return null;
  if (urlUserinfo(text, s)) return null;
  const n = text.length;
  let e = at + 1;
  while (e < n && isDomainChar(text.charCodeAt(e))) e++;
  while (e > at + 1 && (text.charCodeAt(e - 1) === 0x2e || text.charCodeAt(e - 1) === 0x2d)) e--;
  const domain = text.slice(at + 1, e);
  const dot = domain.lastIndexOf('.');
  if (dot <= 0 || domain.includes('..')) return null;
  const tld = domain.slice(dot + 1);
  if (tld.length < 2 || tld.length > 24 || !/^(?:[A-Za-z]+|xn--[a-z0-9-]+|[\u0080-\uffff]+)$/.test(tld))
    return null;
  if (FILE_TLDS.has(tld.toLowerCase()) || /^\dx\./.test(domain)) return null;
  if (e < n) {
    const c = text.charCodeAt(e);
    // git@github.com:org/repo.git is an SSH remote, not a mailbox; "a@b.com@c" is nonsense.
    if (c === 0x40) return null;
    if (
      c === 0x3a &&
      e + 1 < n &&
      (isWordChar(text.charCodeAt(e + 1)) || text.charCodeAt(e + 1) === 0x2f) &&
      !/^\d/.test(text.slice(e + 1, e + 2))
    )
      return null;
  }
  return [s, e];
}

function isIpv4Text(s: string): boolean {
  const parts = s.split('.');
  if (parts.length !== 4) return false;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || (p.length > 1 && p[0] === '0') || Number(p) > 255) return false;
  }
  return true;
}

function hexGroups(s: string): number {
  if (s === '') return 0;
  const parts = s.split(':');
  for (const p of parts) if (!/^[0-9A-Fa-f]{1,4}$/.test(p)) return -1;
  return parts.length;
}

export function isIpv6(s: string): boolean {
  let head = s;
  let need = 8;
  if (s.includes('.')) {
    const last = s.lastIndexOf(':');
    if (last < 0 || !isIpv4Text(s.slice(last + 1))) return false;
    head = s.endsWith('::', last + 1) ? s.slice(0, last + 1) : s.slice(0, last);
    need = 6;
  }
  const dbl = head.indexOf('::');
  if (dbl < 0) return hexGroups(head) === need;
  if (head.indexOf('::', dbl + 1) >= 0) return false;
  const left = hexGroups(head.slice(0, dbl));
  const right = hexGroups(head.slice(dbl + 2));
  if (left < 0 || right < 0 || left + right >= need) return false;
  // A bare "::" or "a::" in prose or code is not an address worth reporting; "::1" is.
  return left + right >= 2 || head === '::1' || need === 6 || /^[0-9a-f]{3,4}::$/i.test(head);
}

function isV6Char(c: number): boolean {
  return isHex(c) || c === 0x3a || c === 0x2e;
}

/** "::" within [s, e), without slicing (times like 11:42:17 in logs come here by the thousand). */
function hasDoubleColon(text: string, s: number, e: number): boolean {
  for (let i = s; i + 1 < e; i++)
    if (text.charCodeAt(i) === 0x3a && text.charCodeAt(i + 1) === 0x3a) return true;
  return false;
}

/** Examines the IPv6 candidate around the ':' at `colon`; returns [start, end] or null, and `next`. */
export function matchIpv6(text: string, colon: number): { hit: [number, number] | null; next: number } {
  const n = text.length;
  let s = colon;
  while (s > 0 && isV6Char(text.charCodeAt(s - 1))) s--;
  let e = colon + 1;
  while (e < n && isV6Char(text.charCodeAt(e))) e++;
  const next = e;
  // Sentence punctuation after an address.
  while (e > colon + 1 && text.charCodeAt(e - 1) === 0x2e) e--;
  if (e - s < 3 || e - s > 45) return { hit: null, next };
  let colons = 0;
  for (let i = s; i < e; i++) if (text.charCodeAt(i) === 0x3a) colons++;
  if (colons < 2) return { hit: null, next };
  // Without "::" an address has 7 colons (6 before an embedded IPv4): times like 11:42:17 do not.
  if (colons < 6 && !hasDoubleColon(text, s, e)) return { hit: null, next };
  while (s < colon && text.charCodeAt(s) === 0x2e) s++;
  if (gluedBefore(text, s) || (e < n && isWordChar(text.charCodeAt(e)))) return { hit: null, next };
  let end = e;
  if (!isIpv6(text.slice(s, end))) {
    // "fe80::1:" or "::1:8080"-like tails: try without the last group once.
    if (text.charCodeAt(end - 1) === 0x3a && isIpv6(text.slice(s, end - 1))) end--;
    else return { hit: null, next };
  }
  return { hit: [s, end], next };
}

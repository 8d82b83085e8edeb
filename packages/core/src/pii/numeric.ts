import type { CountryCode } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { ibanMod97Valid, isDigit, isUpper, isWordChar, luhnValid } from './checks.js';
import { gluedBefore } from './network.js';
import type { PiiType } from './types.js';

/**
 * Detectors driven by digit runs: credit cards, US SSNs, IPv4 addresses, phone numbers and IBANs.
 * The scanner hands us the position of a digit; we read the whole "numeric run" (digit groups
 * joined by short separators), reject it cheaply when it is glued to a word (hashes, UUIDs,
 * identifiers, versions like v1.2.3), and only then validate sub-runs per type. Validation with
 * checksums and libphonenumber runs on a tiny fraction of the text.
 */

export type Emit = (type: PiiType, start: number, end: number) => void;

export interface NumericWants {
  phone: boolean;
  credit_card: boolean;
  us_ssn: boolean;
  ip_address: boolean;
  iban: boolean;
}

const MAX_GROUPS = 16;
// Reused across calls: the scanner is synchronous, so one set of buffers is enough.
const gStart = new Int32Array(MAX_GROUPS);
const gEnd = new Int32Array(MAX_GROUPS);
/** Separator after group i: bit flags (SEP_*) of the characters between group i and i+1. */
const gSep = new Int32Array(MAX_GROUPS);

const SEP_SPACE = 1;
const SEP_DASH = 2;
const SEP_DOT = 4;
const SEP_PAREN = 8;
const SEP_SLASH = 16;

function sepFlag(c: number): number {
  switch (c) {
    case 0x20:
    case 0xa0:
    case 0x202f:
      return SEP_SPACE;
    case 0x2d:
    case 0x2010:
    case 0x2011:
    case 0x2013:
      return SEP_DASH;
    case 0x2e:
      return SEP_DOT;
    case 0x28:
    case 0x29:
      return SEP_PAREN;
    case 0x2f:
      return SEP_SLASH;
    default:
      return 0;
  }
}

/** The comma at `i` is followed by 1-3 digits and no further digit group. */
function decimalCommaAt(text: string, i: number): boolean {
  let k = i + 1;
  while (k < text.length && k - i <= 4 && isDigit(text.charCodeAt(k))) k++;
  const digits = k - i - 1;
  if (digits === 0 || digits > 3) return false;
  const after = k < text.length ? text.charCodeAt(k) : 0;
  return !(after === 0x2d || after === 0x2f || (after === 0x2e && isDigit(text.charCodeAt(k + 1))));
}

/** Skips to the end of the word/number token that starts at or contains `i`. */
function skipToken(text: string, i: number): number {
  let j = i;
  const n = text.length;
  while (j < n) {
    const c = text.charCodeAt(j);
    if (isWordChar(c)) j++;
    else if ((c === 0x2e || c === 0x2d) && j + 1 < n && isWordChar(text.charCodeAt(j + 1))) j += 2;
    else break;
  }
  return j;
}

/**
 * Handles the digit at `i`. Returns the index the scanner continues from (> i).
 */
export function scanNumeric(text: string, i: number, want: NumericWants, emit: Emit): number {
  const n = text.length;
  // A digit right after a word character: part of an identifier, hash, or an IBAN's check digits.
  if (gluedBefore(text, i)) {
    if (want.iban && i >= 2 && isUpper(text.charCodeAt(i - 1)) && isUpper(text.charCodeAt(i - 2))) {
      const end = matchIban(text, i - 2);
      if (end > 0) {
        emit('iban', i - 2, end);
        return end;
      }
      // An IBAN-shaped value with a wrong checksum: its digit groups are not cards or phones.
      if (!gluedBefore(text, i - 2) && IBAN_LENGTHS[text.slice(i - 2, i)] !== undefined)
        return skipIbanShape(text, i);
    }
    return skipToken(text, i);
  }

  // Optional '+' / '(' prefix of a phone number.
  let runStart = i;
  let plus = false;
  if (runStart > 0 && text.charCodeAt(runStart - 1) === 0x28) runStart--;
  if (runStart > 0 && text.charCodeAt(runStart - 1) === 0x2b) {
    runStart--;
    plus = true;
  }
  if (runStart > 0) {
    const b = text.charCodeAt(runStart - 1);
    if (gluedBefore(text, runStart)) return skipToken(text, i);
    // Glued by '-' or '.' to a word (a UUID part, a version), or by ',' / ':' to a number
    // (1,234,567 or 10:30). "tel:+1…", "ip:10.0.0.1" stay separate.
    if (runStart > 1) {
      const bb = text.charCodeAt(runStart - 2);
      if (((b === 0x2d || b === 0x2e) && isWordChar(bb)) || ((b === 0x2c || b === 0x3a) && isDigit(bb)))
        return skipToken(text, i);
    }
  }

  // Read the groups.
  let g = 0;
  let j = i;
  for (;;) {
    const gs = j;
    while (j < n && isDigit(text.charCodeAt(j))) j++;
    gStart[g] = gs;
    gEnd[g] = j;
    gSep[g] = 0;
    g++;
    if (g === MAX_GROUPS || j >= n) break;
    let k = j;
    let flags = 0;
    let dots = 0;
    let dashes = 0;
    while (k < n && k - j < 3) {
      const f = sepFlag(text.charCodeAt(k));
      if (f === 0) break;
      if (f === SEP_DOT) dots++;
      if (f === SEP_DASH) dashes++;
      flags |= f;
      k++;
    }
    if (k === j || k >= n || !isDigit(text.charCodeAt(k)) || dots > 1 || dashes > 1) break;
    gSep[g - 1] = flags;
    j = k;
  }
  const runEnd = j;
  if (runEnd < n) {
    const c = text.charCodeAt(runEnd);
    if (isWordChar(c) || c === 0x40) return skipToken(text, runEnd);
    if ((c === 0x2e || c === 0x2d) && runEnd + 1 < n && isWordChar(text.charCodeAt(runEnd + 1)))
      return skipToken(text, runEnd + 1);
    // A comma before 1-3 digits is a thousands separator or decimal comma (1,234,567 / 657,59);
    // before anything else it separates fields (CSV: "…,866-25-4032,2026-06-16").
    if (c === 0x2c && decimalCommaAt(text, runEnd)) return skipToken(text, runEnd + 1);
  }

  // Every type needs 7+ digits or four groups (IPv4): most numbers in logs and JSON are neither.
  if (g < 4 && gEnd[g - 1]! - gStart[0]! < 7) return runEnd;

  // Sub-runs may only start/end where a space separates groups: leftmost-longest first.
  let a = 0;
  while (a < g) {
    // Sub-runs split at spaces, and at '/' (10.0.0.0/8).
    if (a > 0 && !(gSep[a - 1]! & (SEP_SPACE | SEP_SLASH))) {
      a++;
      continue;
    }
    let found = -1;
    for (let b = g - 1; b >= a; b--) {
      if (b < g - 1 && !(gSep[b]! & (SEP_SPACE | SEP_SLASH))) continue;
      if (checkSubRun(text, a, b, a === 0 ? runStart : gStart[a]!, a === 0 && plus, want, emit)) {
        found = b;
        break;
      }
      // Printed like a card but not one (wrong check digit): its groups are not a phone or SSN.
      if (a === 0 && b === g - 1 && g >= 3 && g <= 5 && cardShaped(0, b)) return runEnd;
    }
    a = found >= 0 ? found + 1 : a + 1;
  }
  return runEnd;
}

function checkSubRun(
  text: string,
  a: number,
  b: number,
  start: number,
  plus: boolean,
  want: NumericWants,
  emit: Emit,
): boolean {
  const end = gEnd[b]!;
  let digits = 0;
  for (let x = a; x <= b; x++) digits += gEnd[x]! - gStart[x]!;
  const groups = b - a + 1;
  if (digits < 7 && groups !== 4) return false;

  if (want.ip_address && groups === 4 && isIpv4(text, a, b) && !versionContext(text, gStart[a]!)) {
    emit('ip_address', gStart[a]!, end);
    return true;
  }
  if (digits < 7) return false;
  if (want.credit_card && digits >= 13 && digits <= 19 && isCreditCard(text, a, b)) {
    emit('credit_card', gStart[a]!, end);
    return true;
  }
  if (want.us_ssn && digits === 9 && isSsn(text, a, b)) {
    emit('us_ssn', gStart[a]!, end);
    return true;
  }
  // A phone number starts a numeric run: one inside a longer run of groups is part of another number.
  if (want.phone && digits <= 17 && a === 0) {
    const phoneStart = isPhone(text, a, b, start, plus, digits);
    if (phoneStart >= 0) {
      emit('phone', phoneStart, end);
      return true;
    }
  }
  return false;
}

// ---------------------------------------------------------------- IPv4

function isIpv4(text: string, a: number, b: number): boolean {
  for (let x = a; x <= b; x++) {
    if (x < b && gSep[x] !== SEP_DOT) return false;
    const len = gEnd[x]! - gStart[x]!;
    if (len > 3) return false;
    if (len > 1 && text.charCodeAt(gStart[x]!) === 48) return false;
    if (Number(text.slice(gStart[x]!, gEnd[x]!)) > 255) return false;
  }
  return true;
}

// "version 1.2.3.4", "build 10.0.19041.1": four dotted numbers that are not an address.
const VERSION_BEFORE =
  /(?:\bv|\bver|version|versión|versão|versione|версия|版本|バージョン|release|build|firmware|\bfw|\brev|revision|\boid|sdk|chrome|firefox|safari|edge|node|python|java|android|ios|windows|macos)\s*[:=]?\s*$/i;

function versionContext(text: string, start: number): boolean {
  if (VERSION_BEFORE.test(text.slice(Math.max(0, start - 20), start))) return true;
  // Spec sections: "ES6$25.4.5.4", "HTML §8.6.1.5".
  const before = start > 0 ? text.charCodeAt(start - 1) : 0;
  if (before === 0x24 || before === 0xa7 || (before === 0x20 && text.charCodeAt(start - 2) === 0xa7))
    return true;
  // An image or package tag: clickhouse/clickhouse-server:25.8.26.11, pkg-name:1.2.3.4.
  if (start > 1 && text.charCodeAt(start - 1) === 0x3a) {
    let s = start - 1;
    while (s > 0 && start - s < 80 && /[\w./-]/.test(text[s - 1]!)) s--;
    const name = text.slice(s, start - 1);
    return /[/-]/.test(name) && /[A-Za-z]/.test(name);
  }
  return false;
}

// ---------------------------------------------------------------- credit cards

function cardIssuerLengthOk(d: string): boolean {
  const len = d.length;
  const p2 = Number(d.slice(0, 2));
  const p3 = Number(d.slice(0, 3));
  const p4 = Number(d.slice(0, 4));
  const p6 = Number(d.slice(0, 6));
  // Visa (13-digit cards are long retired; 13-digit runs starting with 4 are mostly EAN-13 codes)
  if (d.charCodeAt(0) === 52) return len === 16 || len === 19;
  if (p2 >= 51 && p2 <= 55) return len === 16; // Mastercard
  if (p4 >= 2221 && p4 <= 2720) return len === 16; // Mastercard 2-series
  if (p4 >= 2200 && p4 <= 2204) return len >= 16 && len <= 19; // Mir
  if (p2 === 34 || p2 === 37) return len === 15; // Amex
  if (p4 === 6011 || (p3 >= 644 && p3 <= 649) || p2 === 65 || (p6 >= 622126 && p6 <= 622925))
    return len >= 16 && len <= 19; // Discover
  if (p2 === 62) return len >= 16 && len <= 19; // UnionPay
  if ((p3 >= 300 && p3 <= 305) || p2 === 36 || p2 === 38 || p2 === 39) return len >= 14 && len <= 19; // Diners
  if (p4 >= 3528 && p4 <= 3589) return len >= 16 && len <= 19; // JCB
  if (
    p4 === 5018 ||
    p4 === 5020 ||
    p4 === 5038 ||
    p4 === 5893 ||
    p4 === 6304 ||
    p4 === 6759 ||
    (p4 >= 6761 && p4 <= 6763)
  )
    return len >= 12 && len <= 19; // Maestro
  if (p2 === 60 || p3 === 508) return len === 16; // RuPay
  return false;
}

/**
 * Groups a..b are printed the way cards are: one separator kind (space or dash) and the
 * grouping 4-4-4-4 (16 digits), 4-4-4-4-3 (19), Amex 4-6-5 or Diners 4-6-4.
 */
function cardShaped(a: number, b: number): boolean {
  const groups = b - a + 1;
  if (groups < 3 || groups > 5) return false;
  const sep = gSep[a]!;
  if (sep !== SEP_SPACE && sep !== SEP_DASH) return false;
  for (let x = a; x < b; x++) if (gSep[x] !== sep) return false;
  if (gEnd[a]! - gStart[a]! !== 4) return false;
  const second = gEnd[a + 1]! - gStart[a + 1]!;
  const last = gEnd[b]! - gStart[b]!;
  if (groups === 3) return second === 6 && (last === 5 || last === 4);
  for (let x = a + 1; x < a + 4; x++) if (gEnd[x]! - gStart[x]! !== 4) return false;
  return groups === 4 || last === 3;
}

function isCreditCard(text: string, a: number, b: number): boolean {
  if (a !== b && !cardShaped(a, b)) return false;
  let d = '';
  for (let x = a; x <= b; x++) d += text.slice(gStart[x]!, gEnd[x]!);
  if (!cardIssuerLengthOk(d) || !luhnValid(d)) return false;
  // One in ten random digit runs passes Luhn: an unformatted run labelled as an order/id/...
  // number is that number, not a card.
  return a !== b || !identifierBefore(text, gStart[a]!);
}

// ---------------------------------------------------------------- US SSN

const SSN_CONTEXT = /(?:ssn|social[\s_-]*security|soc\.?\s*sec|ss#|ss\s*no|taxpayer|\btin\b|itin)/i;

function ssnParts(area: string, group: string, serial: string): boolean {
  if (area === '000' || area === '666' || area.charCodeAt(0) === 57) return false;
  if (group === '00' || serial === '0000') return false;
  return true;
}

function isSsn(text: string, a: number, b: number): boolean {
  if (b - a === 2) {
    const sep = gSep[a]!;
    if ((sep !== SEP_DASH && sep !== SEP_SPACE && sep !== SEP_DOT) || gSep[a + 1] !== sep) return false;
    if (gEnd[a]! - gStart[a]! !== 3 || gEnd[a + 1]! - gStart[a + 1]! !== 2 || gEnd[b]! - gStart[b]! !== 4)
      return false;
    const ok = ssnParts(
      text.slice(gStart[a]!, gEnd[a]!),
      text.slice(gStart[a + 1]!, gEnd[a + 1]!),
      text.slice(gStart[b]!, gEnd[b]!),
    );
    if (!ok) return false;
    if (sep === SEP_DASH || SSN_CONTEXT.test(text.slice(Math.max(0, gStart[a]! - 40), gStart[a]!)))
      return true;
    // Spaced or dotted 3-2-4 without the word: no phone plan groups a number so, except national
    // numbers with a trunk 0 (040 12 3456); not after an identifier or a phone word.
    const start = gStart[a]!;
    return (
      text.charCodeAt(start) !== 48 &&
      !identifierBefore(text, start) &&
      !PHONE_CONTEXT.test(text.slice(Math.max(0, start - 30), start))
    );
  }
  if (a === b) {
    const s = text.slice(gStart[a]!, gEnd[a]!);
    if (!ssnParts(s.slice(0, 3), s.slice(3, 5), s.slice(5))) return false;
    // An unformatted 9-digit run is an SSN only when the text says so.
    return SSN_CONTEXT.test(text.slice(Math.max(0, gStart[a]! - 40), gStart[a]!));
  }
  return false;
}

// ---------------------------------------------------------------- phone numbers

const PHONE_CONTEXT =
  /(?:phone|\btel\b|tel\.|tél|telephone|mobil|festnetz|durchwahl|\bcell|\bcall|\btext\b|sms|whatsapp|signal|viber|\bfax|contact|reach|erreichbar|joignable|llám|llam|appel|anruf|ruf mich|chiam|ligue|ligar|liga\b|звон|打给|\bdial|hotline|number|nummer|numéro|número|numero|телефон|тел\.|номер|моб|电话|電話|手机|手機|号码|携帯|連絡|연락처|전화|핸드폰|telefon|handy|téléphone|portable|teléfono|móvil|celular|telefone|telefono|cellulare|फ़ोन|फोन|मोबाइल|हاتف|هاتف|جوال|رقم)/i;

const PHONE_CONTEXT_ALL = new RegExp(PHONE_CONTEXT.source, 'gi');
/** Between a phone word and its number: the rest of the word, separators and a few fillers. */
const PHONE_TAIL =
  /^[\p{L}_]*[\s:：.,=#()"'\\-]*(?:(?:is|at|on|to|me|my|al|le|es|est|ist|am|unter|au|no|nr|num|number|nummer|número|numéro|numero|номер|号码|號碼|番号|は|是|为|為|:)[\s:：.,=#()"'\\-]*){0,4}$/iu;

/** A phone word introduces the number at `start` (within 24 characters, nothing else between). */
function phoneIntro(text: string, start: number): boolean {
  const intro = text.slice(Math.max(0, start - 24), start);
  PHONE_CONTEXT_ALL.lastIndex = 0;
  let m: RegExpExecArray | null;
  let last = -1;
  while ((m = PHONE_CONTEXT_ALL.exec(intro)) !== null) last = m.index + m[0].length;
  return last >= 0 && PHONE_TAIL.test(intro.slice(last));
}

/** Words that make the number after them an identifier, not a phone ("order 415-555-2671"). */
// prettier-ignore
const NOT_PHONE_WORDS = new Set([
  'order', 'orders', 'invoice', 'ticket', 'tracking', 'track', 'ref', 'reference', 'sku', 'isbn', 'issn', 'serial',
  'acct', 'id', 'case', 'po', 'transaction', 'txn', 'confirmation', 'booking', 'pnr', 'member', 'policy', 'claim',
  'batch', 'build', 'version', 'commit', 'port', 'pid', 'uid', 'parcel', 'shipment', 'awb', 'waybill', 'patent', 'ean',
  'upc', 'gtin', 'lot', 'model', 'part', 'zip', 'postal', 'imei', 'imsi', 'iccid', 'meid', 'vin', 'fedex', 'ups',
  'usps', 'dhl', 'bestellung', 'bestellnummer', 'auftrag', 'rechnung', 'sendungsnummer', 'seriennummer', 'commande',
  'facture', 'colis', 'pedido', 'factura', 'заказ', 'счет', 'счёт',
]);
/** "order no. …", "ticket # …": skipped between the identifying word and the number. */
const NUMBER_WORDS = new Set([
  'no',
  'nr',
  'num',
  'number',
  'nummer',
  'numéro',
  'número',
  'numero',
  'n°',
  'id',
  'номер',
]);

function isSkippable(c: number): boolean {
  return (
    c === 0x20 ||
    c === 0x23 ||
    c === 0x3a ||
    c === 0x2e ||
    c === 0x2d ||
    c === 0x3d ||
    c === 0x09 ||
    c === 0x0a ||
    c === 0xa0
  );
}

/** The word ending before `pos` (after skipping separators), lower-cased, and where it starts. */
function wordBefore(text: string, pos: number): [string, number] {
  let e = pos;
  while (e > 0 && pos - e < 4 && isSkippable(text.charCodeAt(e - 1))) e--;
  let s = e;
  while (s > 0 && e - s < 24 && (isWordChar(text.charCodeAt(s - 1)) || text.charCodeAt(s - 1) === 0xb0)) s--;
  return [text.slice(s, e).toLowerCase(), s];
}

function identifierBefore(text: string, start: number): boolean {
  const [first, s] = wordBefore(text, start);
  if (NOT_PHONE_WORDS.has(first)) return true;
  if (NUMBER_WORDS.has(first) && NOT_PHONE_WORDS.has(wordBefore(text, s)[0])) return true;
  // CJK writes "订单号" right before the number.
  const near = text.slice(Math.max(0, start - 6), start);
  return near.includes('订单') || near.includes('注文') || near.includes('運単') || near.includes('运单');
}

/**
 * The regions whose national formats are recognised (numbers with a '+'/'00' country code are
 * validated for every region). A number written without its country code is ambiguous, so it is
 * tried only against this list.
 */
export const DEFAULT_PHONE_REGIONS: readonly CountryCode[] = [
  'US',
  'GB',
  'DE',
  'FR',
  'IT',
  'ES',
  'NL',
  'BE',
  'CH',
  'AT',
  'IE',
  'JP',
  'CN',
  'KR',
  'IN',
  'AU',
  'NZ',
  'ZA',
  'TR',
  'BR',
  'MX',
  'RU',
];

function groupLens(s: string): string {
  let out = '';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    if (isDigit(s.charCodeAt(i))) run++;
    else if (run) {
      out += `${run},`;
      run = 0;
    }
  }
  if (run) out += `${run},`;
  return out;
}

function looksLikeDate(text: string, a: number, b: number): boolean {
  // "2026-11-23 11:42:19" in a log line: a year, then month and day (and the hour).
  if (
    b - a >= 2 &&
    gEnd[a]! - gStart[a]! === 4 &&
    gEnd[a + 1]! - gStart[a + 1]! <= 2 &&
    !(gSep[a]! & SEP_SPACE)
  )
    if (yearAt(text, a)) return true;
  if (b - a !== 2) return false;
  const l0 = gEnd[a]! - gStart[a]!;
  const l1 = gEnd[a + 1]! - gStart[a + 1]!;
  const l2 = gEnd[b]! - gStart[b]!;
  return (
    (l0 === 4 && l1 <= 2 && l2 <= 2 && yearAt(text, a)) || (l2 === 4 && l0 <= 2 && l1 <= 2 && yearAt(text, b))
  );
}

/** Group x is a year 1900-2099. */
function yearAt(text: string, x: number): boolean {
  const c0 = text.charCodeAt(gStart[x]!);
  const c1 = text.charCodeAt(gStart[x]! + 1);
  return (c0 === 0x31 && c1 === 0x39) || (c0 === 0x32 && c1 === 0x30);
}

// Logs and documents repeat the same numbers; parsing one costs microseconds per country.
// Keys: a letter for the question asked (each is a pure function of the rest of the key).
const validCache = new Map<string, boolean>();

function cachedCheck(key: string, check: () => boolean): boolean {
  const cached = validCache.get(key);
  if (cached !== undefined) return cached;
  const ok = check();
  if (validCache.size >= 4096) validCache.clear();
  validCache.set(key, ok);
  return ok;
}

const NATIONAL_NONE = 0;
/** Valid in a default region, and its first group is the area code as that region writes it. */
const NATIONAL_AREA = 1;
/** Valid in a default region and grouped exactly as the region's national format groups it. */
const NATIONAL_EXACT = 2;

/**
 * How well the number written in national format `s` fits a region of DEFAULT_PHONE_REGIONS,
 * judged by libphonenumber's metadata: its number patterns decide validity, its national
 * formatting rules decide where the area code ends and how the rest is grouped.
 */
function nationalFit(s: string, firstGroup: string, lens: string): number {
  const key = `n${s}`;
  const cached = nationalCache.get(key);
  if (cached !== undefined) return cached;
  let fit = NATIONAL_NONE;
  for (const region of DEFAULT_PHONE_REGIONS) {
    const p = parsePhoneNumberFromString(s, region);
    if (!p?.isValid() || p.country !== region) continue;
    const national = p.formatNational();
    if (groupLens(national) === lens) {
      fit = NATIONAL_EXACT;
      break;
    }
    // The first group is the area code as the region writes it (with its trunk prefix: 030, 8 (495)).
    if (/\d+/.exec(national)?.[0] === firstGroup) fit = NATIONAL_AREA;
  }
  if (nationalCache.size >= 4096) nationalCache.clear();
  nationalCache.set(key, fit);
  return fit;
}
const nationalCache = new Map<string, number>();

/** Valid (any grouping) in one of `countries`. */
function validIn(s: string, countries: readonly CountryCode[]): boolean {
  return cachedCheck(`c${s}`, () => {
    for (const country of countries) {
      const p = parsePhoneNumberFromString(s, country);
      if (p?.isValid() && p.country === country) return true;
    }
    return false;
  });
}

/** A number written with '+' and its country code. */
function validInternational(s: string): boolean {
  return cachedCheck(`p${s}`, () => {
    const p = parsePhoneNumberFromString(s);
    if (p?.isValid()) return true;
    // +1 with a well-formed NANP number in an unassigned area (e.g. the fictional 555): still a phone.
    return p?.countryCallingCode === '1' && /^1[2-9]\d{9}$/.test(p.number.slice(1));
  });
}

/** A number written with the "00" international prefix; `cc` is the rest of its first group. */
function validWith00(s: string, cc: string): boolean {
  return cachedCheck(`0${cc}|${s}`, () => {
    const p = parsePhoneNumberFromString(`+${s.replace(/\D/g, '').slice(2)}`);
    // "0044 20 …": the first group is 00 + the country code, as people write it.
    return p?.isValid() === true && (cc === '' || p.countryCallingCode === cc);
  });
}

/** Dots separate every group or none (06.12.34.56.78; a lone dot is a decimal point). */
function uniformDots(a: number, b: number): boolean {
  let dots = 0;
  for (let x = a; x < b; x++) if (gSep[x]! & SEP_DOT) dots++;
  if (dots === 0) return true;
  if (dots !== b - a || dots === 1) return false;
  for (let x = a; x < b; x++) if (gSep[x] !== SEP_DOT) return false;
  return true;
}

/** NANP area code / exchange: first digit 2-9, not N11. */
function nxx(v: string): boolean {
  return v.charCodeAt(0) >= 50 && !(v[1] === '1' && v[2] === '1');
}

/** Returns the phone number's start (including '+'/'(') or -1. */
function isPhone(text: string, a: number, b: number, start: number, plus: boolean, digits: number): number {
  // A slash only between the area code and the number, as in German "030/12345678".
  for (let x = a + 1; x < b; x++) if (gSep[x]! & SEP_SLASH) return -1;
  if (gSep[a]! & SEP_SLASH && (plus || text.charCodeAt(gStart[a]!) !== 48)) return -1;
  const first = gStart[a]!;
  const end = gEnd[b]!;
  const paren = !plus && start < first; // "(415) …"
  const s = text.slice(start, end);
  // Identifier words are looked up only when a number would otherwise be accepted (it costs an
  // allocation, and most digit runs are rejected by shape first).

  if (plus) {
    if (digits < 8 || digits > 15) return -1;
    return validInternational(s) ? start : -1;
  }
  // International prefix "00": 0044 20 7946 0958.
  if (
    digits >= 10 &&
    text.charCodeAt(first) === 48 &&
    text.charCodeAt(first + 1) === 48 &&
    gEnd[a]! - first <= 5
  ) {
    if (identifierBefore(text, start)) return -1;
    return validWith00(s, text.slice(first + 2, gEnd[a]!)) ? start : -1;
  }

  if (digits < 7 || digits > 13) return -1;
  if (looksLikeDate(text, a, b)) return -1;

  // North American formats: (415) 555-2671, 415-555-2671, 415.555.2671, 1-415-555-2671.
  const groups = b - a + 1;
  const lens: number[] = [];
  for (let x = a; x <= b; x++) lens.push(gEnd[x]! - gStart[x]!);
  const nanp =
    (groups === 3 && lens[0] === 3 && lens[1] === 3 && lens[2] === 4) ||
    (groups === 4 &&
      lens[0] === 1 &&
      text.charCodeAt(first) === 49 &&
      lens[1] === 3 &&
      lens[2] === 3 &&
      lens[3] === 4);
  if (nanp) {
    const off = groups === 4 ? 1 : 0;
    const sep1 = gSep[a + off]!;
    const sep2 = gSep[a + off + 1]!;
    const consistent = (sep1 === sep2 && sep1 !== SEP_PAREN) || (sep1 & SEP_PAREN) !== 0;
    const area = text.slice(gStart[a + off]!, gEnd[a + off]!);
    const exch = text.slice(gStart[a + off + 1]!, gEnd[a + off + 1]!);
    // "(555) 123-4567" / "555-123-4567" are unmistakably written as phone numbers even when the
    // exchange is not assignable; dotted or spaced runs need a valid exchange too.
    const strong = paren || (sep1 === SEP_DASH && sep2 === SEP_DASH);
    if (consistent && nxx(area) && (strong || nxx(exch)) && (paren || !(sep1 & SEP_PAREN)))
      return identifierBefore(text, start) ? -1 : start;
  }

  // National formats of the default regions, judged by libphonenumber's metadata: valid there,
  // and grouped as that region writes it (exactly, or at least the area code with its trunk
  // prefix as the first group: 030 123 456 78, 030/12345678, 06.12.34.56.78, 8 (495) 123-45-67).
  // Numbers without a trunk prefix need the region's exact grouping. Nine-digit numbers in
  // three groups (3-3-3 in ZA/NZ/AT/IE) look like any other id, so those need a phone word
  // nearby; Spanish 612 34 56 78 (four groups) does not.
  const leadingZero = text.charCodeAt(first) === 48;
  const trunk = leadingZero || (lens[0] === 1 && text.charCodeAt(first) === 56);
  if (groups >= 2 && digits >= 9 && lens[0]! <= 6 && (trunk || groups >= 3 || paren) && uniformDots(a, b)) {
    const fit = nationalFit(s, text.slice(first, gEnd[a]!), groupLens(s));
    const ok =
      (fit === NATIONAL_EXACT || (fit === NATIONAL_AREA && trunk)) &&
      (digits >= 10 ||
        (!trunk && groups >= 4) ||
        PHONE_CONTEXT.test(text.slice(Math.max(0, start - 30), start)));
    if (ok && !identifierBefore(text, start)) return start;
  }
  // Otherwise only when the text right before introduces this very number ("phone: …", "电话…").
  for (let x = a; x < b; x++) if (gSep[x]! & SEP_DOT) return -1;
  if (digits < 8) return -1;
  for (let j = Math.max(0, start - 20); j < start; j++) if (isDigit(text.charCodeAt(j))) return -1;
  if (!phoneIntro(text, start)) return -1;
  if (identifierBefore(text, start)) return -1;
  return validIn(s, DEFAULT_PHONE_REGIONS) ? start : -1;
}

// ---------------------------------------------------------------- IBAN

/** ISO 13616 IBAN lengths per country. */
const IBAN_LENGTHS: Record<string, number> = {
  AD: 24,
  AE: 23,
  AL: 28,
  AT: 20,
  AZ: 28,
  BA: 20,
  BE: 16,
  BG: 22,
  BH: 22,
  BR: 29,
  BY: 28,
  CH: 21,
  CR: 22,
  CY: 28,
  CZ: 24,
  DE: 22,
  DK: 18,
  DO: 28,
  EE: 20,
  EG: 29,
  ES: 24,
  FI: 18,
  FO: 18,
  FR: 27,
  GB: 22,
  GE: 22,
  GI: 23,
  GL: 18,
  GR: 27,
  GT: 28,
  HR: 21,
  HU: 28,
  IE: 22,
  IL: 23,
  IQ: 23,
  IS: 26,
  IT: 27,
  JO: 30,
  KW: 30,
  KZ: 20,
  LB: 28,
  LC: 32,
  LI: 21,
  LT: 20,
  LU: 20,
  LV: 21,
  LY: 25,
  MC: 27,
  MD: 24,
  ME: 22,
  MK: 19,
  MR: 27,
  MT: 31,
  MU: 30,
  NL: 18,
  NO: 15,
  PK: 24,
  PL: 28,
  PS: 29,
  PT: 25,
  QA: 29,
  RO: 24,
  RS: 22,
  SA: 24,
  SC: 31,
  SE: 24,
  SI: 19,
  SK: 24,
  SM: 27,
  ST: 25,
  SV: 28,
  TL: 23,
  TN: 24,
  TR: 26,
  UA: 29,
  VA: 22,
  VG: 24,
  XK: 20,
  SD: 18,
  BI: 27,
  DJ: 27,
  RU: 33,
  MN: 20,
  NI: 28,
  SO: 23,
  OM: 23,
  FK: 18,
  YE: 30,
  HN: 28,
};

function skipIbanShape(text: string, i: number): number {
  let j = skipToken(text, i);
  const n = text.length;
  for (;;) {
    if (j + 1 >= n || text.charCodeAt(j) !== 0x20) return j;
    let k = j + 1;
    while (k < n && k - j <= 4 && (isDigit(text.charCodeAt(k)) || isUpper(text.charCodeAt(k)))) k++;
    if (k - j - 1 < 1 || (k < n && isWordChar(text.charCodeAt(k)))) return j;
    j = k;
  }
}

/** IBAN starting at `s` (two letters), compact or in groups of four; returns its end or -1. */
function matchIban(text: string, s: number): number {
  if (s > 0 && isWordChar(text.charCodeAt(s - 1))) return -1;
  const len = IBAN_LENGTHS[text.slice(s, s + 2)];
  if (len === undefined || !isDigit(text.charCodeAt(s + 3))) return -1;
  let compact = '';
  let j = s;
  const n = text.length;
  while (j < n && compact.length < len) {
    const c = text.charCodeAt(j);
    if (isDigit(c) || isUpper(c)) {
      compact += text[j];
      j++;
    } else if ((c === 0x20 || c === 0x2d) && compact.length % 4 === 0 && j + 1 < n) {
      j++; // separator between groups of four
    } else break;
  }
  if (compact.length !== len) return -1;
  const check = Number(compact.slice(2, 4));
  if (check < 2 || check > 98) return -1; // ISO 13616: 00, 01 and 99 are never issued
  if (j < n && (isWordChar(text.charCodeAt(j)) || text.charCodeAt(j) === 0x2d)) return -1;
  return ibanMod97Valid(compact) ? j : -1;
}

import type { CountryCode } from 'libphonenumber-js/max';
import { parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { base62, crc32, ibanMod97Valid, luhnValid } from '../../src/pii/checks.js';
import type { PiiType } from '../../src/pii/types.js';
import { seededRandom } from '../../src/random.js';

/**
 * Labelled evaluation corpus for the PII detectors, generated from templates with a seeded PRNG
 * so every label's offsets are exact by construction. Values are generated, never copied from
 * real people: valid-by-construction cards (Luhn), IBANs (mod-97), phone numbers (checked with
 * libphonenumber), tokens with their documented shapes. Hard negatives are values that look
 * like PII to a regex but are not: UUIDs, hashes, git SHAs, versions, timestamps, order and
 * tracking numbers, Luhn-invalid card-like runs, ISBNs, invalid SSNs/IBANs, placeholders.
 */

export interface LabelledFinding {
  type: PiiType;
  start: number;
  end: number;
}
export interface EvalExample {
  id: string;
  /** prompt | completion | tool | log | code | negative */
  kind: string;
  lang: string;
  text: string;
  findings: LabelledFinding[];
}

export type Rng = () => number;

class Gen {
  constructor(readonly r: Rng) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)]!;
  }
  digits(n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += String(this.int(0, 9));
    return s;
  }
  chars(n: number, alphabet: string): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(0, alphabet.length - 1)];
    return s;
  }
  chance(p: number): boolean {
    return this.r() < p;
  }
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const HEX = '0123456789abcdef';
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
const B64URL = ALNUM + '-_';

// ------------------------------------------------------------------ PII value generators

const FIRST = [
  'anna',
  'john',
  'maria',
  'wei',
  'yuki',
  'olga',
  'ahmed',
  'priya',
  'lucas',
  'sofia',
  'li',
  'fatima',
  'noah',
  'emma',
  'raj',
  'chen',
  'ivan',
  'amelie',
];
const LAST = [
  'smith',
  'garcia',
  'mueller',
  'zhang',
  'tanaka',
  'ivanova',
  'hassan',
  'patel',
  'silva',
  'rossi',
  'nguyen',
  'kim',
  'dubois',
  'kowalski',
  'oconnor',
];
const DOMAINS = [
  'example.com',
  'mail.example.org',
  'corp.example.co.uk',
  'example.de',
  'beispiel.de',
  'exemple.fr',
  'example.co.jp',
  'example.com.br',
  'uni-example.edu',
  'startup.io',
  'example.cn',
  'company.example',
  'health.example.net',
];

function email(g: Gen): string {
  const f = g.pick(FIRST);
  const l = g.pick(LAST);
  const local = g.pick([
    `${f}.${l}`,
    `${f}${g.int(1, 99)}`,
    `${f[0]}${l}`,
    `${f}_${l}`,
    `${f}.${l}+${g.pick(['news', 'billing', 'test'])}`,
    `${f.toUpperCase()}.${l}`,
    `${l}-${f}`,
  ]);
  return `${local}@${g.pick(DOMAINS)}`;
}

const NANP_AREAS = [
  '212',
  '415',
  '646',
  '312',
  '617',
  '206',
  '303',
  '512',
  '702',
  '305',
  '404',
  '213',
  '718',
  '416',
  '604',
];
function usPhone(g: Gen): string {
  const a = g.pick(NANP_AREAS);
  const e = `${g.int(2, 9)}${g.digits(2)}`.replace(/^(\d)11$/, '$122');
  const l = g.digits(4);
  return g.pick([
    `(${a}) ${e}-${l}`,
    `${a}-${e}-${l}`,
    `${a}.${e}.${l}`,
    `+1 ${a} ${e} ${l}`,
    `+1-${a}-${e}-${l}`,
    `+1 (${a}) ${e}-${l}`,
    `(${a})${e}-${l}`,
    `+1.${a}.${e}.${l}`,
    `1-${a}-${e}-${l}`,
    `+1${a}${e}${l}`,
    `${a} ${e} ${l}`,
  ]);
}

const INTL: ReadonlyArray<[CountryCode, string]> = [
  ['GB', '7400123456'],
  ['GB', '2079460958'],
  ['DE', '15123456789'],
  ['DE', '30123456'],
  ['FR', '612345678'],
  ['IN', '8123456789'],
  ['JP', '9012345678'],
  ['BR', '11961234567'],
  ['CN', '13123456789'],
  ['ES', '612345678'],
  ['IT', '3123456789'],
  ['NL', '612345678'],
  ['AU', '412345678'],
  ['MX', '2221234567'],
  ['KR', '1020000000'],
  ['ZA', '711234567'],
  ['SG', '81234567'],
  ['CH', '781234567'],
];

function intlPhone(g: Gen): { value: string; national: boolean } {
  for (;;) {
    const [country, example] = g.pick(INTL);
    const nsn = example.slice(0, example.length - 4) + g.digits(4);
    const p = parsePhoneNumberFromString(nsn, country);
    if (!p?.isValid()) continue;
    const style = g.int(0, 3);
    if (style === 0) return { value: p.formatInternational(), national: false };
    if (style === 1) return { value: p.number, national: false };
    if (style === 2) return { value: p.formatInternational().replace(/ /g, '-'), national: false };
    // National format only where a trunk prefix makes it recognisable without a country.
    if (['GB', 'DE', 'FR', 'IT', 'NL', 'JP', 'AU'].includes(country))
      return { value: p.formatNational(), national: true };
    return { value: p.formatInternational(), national: false };
  }
}

function luhnComplete(prefix: string, len: number, g: Gen): string {
  let body = prefix + g.digits(len - prefix.length - 1);
  for (let d = 0; d <= 9; d++) if (luhnValid(body + d)) return body + d;
  body = '';
  return body;
}

function card(g: Gen): string {
  const kind = g.int(0, 6);
  let num: string;
  if (kind === 0) num = luhnComplete('4', 16, g);
  else if (kind === 1) num = luhnComplete(String(g.int(51, 55)), 16, g);
  else if (kind === 2) num = luhnComplete(String(g.int(2221, 2720)), 16, g);
  else if (kind === 3) num = luhnComplete(g.pick(['34', '37']), 15, g);
  else if (kind === 4) num = luhnComplete(g.pick(['6011', '65']), 16, g);
  else if (kind === 5) num = luhnComplete(String(g.int(3528, 3589)), 16, g);
  else num = luhnComplete(g.pick(['36', '300']), 14, g);
  const sep = g.pick(['', ' ', '-', ' ']);
  if (sep === '') return num;
  if (num.length === 15) return `${num.slice(0, 4)}${sep}${num.slice(4, 10)}${sep}${num.slice(10)}`;
  if (num.length === 14) return num; // Diners is usually written in one run
  return num.match(/.{1,4}/g)!.join(sep);
}

function ssn(g: Gen): string {
  let area: number;
  do area = g.int(1, 899);
  while (area === 666);
  return `${String(area).padStart(3, '0')}-${String(g.int(1, 99)).padStart(2, '0')}-${String(g.int(1, 9999)).padStart(4, '0')}`;
}

const IBAN_BBAN: Record<string, string> = {
  // n = digit, a = upper letter, c = alnum (upper)
  DE: 'nnnnnnnnnnnnnnnnnn',
  GB: 'aaaannnnnnnnnnnnnn',
  FR: 'nnnnnnnnnncccccccccccnn',
  ES: 'nnnnnnnnnnnnnnnnnnnn',
  IT: 'annnnnnnnnncccccccccccc',
  NL: 'aaaannnnnnnnnn',
  CH: 'nnnnncccccccccccc',
  AT: 'nnnnnnnnnnnnnnnn',
  BE: 'nnnnnnnnnnnn',
  PL: 'nnnnnnnnnnnnnnnnnnnnnnnn',
  SE: 'nnnnnnnnnnnnnnnnnnnn',
  IE: 'aaaannnnnnnnnnnnnn',
  PT: 'nnnnnnnnnnnnnnnnnnnnn',
};

function ibanCompact(g: Gen, country = g.pick(Object.keys(IBAN_BBAN))): string {
  const bban = [...IBAN_BBAN[country]!]
    .map((c) =>
      c === 'n'
        ? g.digits(1)
        : c === 'a'
          ? g.chars(1, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ')
          : g.chars(1, '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ'),
    )
    .join('');
  for (let cd = 2; cd <= 98; cd++) {
    const iban = `${country}${String(cd).padStart(2, '0')}${bban}`;
    if (ibanMod97Valid(iban)) return iban;
  }
  throw new Error('unreachable');
}

function iban(g: Gen): string {
  const c = ibanCompact(g);
  return g.chance(0.5) ? c : c.match(/.{1,4}/g)!.join(' ');
}

function ipv4(g: Gen): string {
  return g.pick([
    () => `${g.int(1, 223)}.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}`,
    () => `192.168.${g.int(0, 255)}.${g.int(1, 254)}`,
    () => `10.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}`,
    () => `203.0.113.${g.int(1, 254)}`,
  ])();
}

function ipv6(g: Gen): string {
  const grp = () => g.int(0, 0xffff).toString(16);
  return g.pick([
    () => Array.from({ length: 8 }, grp).join(':'),
    () => `2001:db8::${grp()}:${grp()}`,
    () => `fe80::${grp()}:${grp()}:${grp()}:${grp()}`,
    () => `2001:0db8:85a3:0000:0000:8a2e:0370:${g.int(0x1000, 0xffff).toString(16)}`,
    () => `::ffff:${g.int(1, 223)}.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(1, 254)}`,
    () => `2606:4700:${grp()}::${grp()}`,
    () => '::1',
  ])();
}

function b64url(s: string): string {
  return Buffer.from(s).toString('base64url');
}

function githubToken(g: Gen): string {
  const body = g.chars(30, ALNUM);
  return `${g.pick(['ghp', 'gho', 'ghu', 'ghs', 'ghr'])}_${body}${base62(crc32(body), 6)}`;
}

function secret(g: Gen): string {
  return g.pick([
    () => `AKIA${g.chars(16, B32)}`,
    () => `ASIA${g.chars(16, B32)}`,
    () => githubToken(g),
    () => `github_pat_${g.chars(22, ALNUM)}_${g.chars(59, ALNUM)}`,
    () => `glpat-${g.chars(20, ALNUM + '-_')}`,
    () => `xoxb-${g.digits(12)}-${g.digits(13)}-${g.chars(24, ALNUM)}`,
    () => `xoxp-${g.digits(11)}-${g.digits(12)}-${g.digits(13)}-${g.chars(32, HEX)}`,
    () =>
      `https://hooks.slack.com/services/T${g.chars(8, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/B${g.chars(10, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}/${g.chars(24, ALNUM)}`,
    () => `sk_live_${g.chars(24, ALNUM)}`,
    () => `rk_live_${g.chars(24, ALNUM)}`,
    () => `sk-proj-${g.chars(48, ALNUM + '-_')}${g.digits(2)}`,
    () => `sk-${g.chars(20, ALNUM)}T3BlbkFJ${g.chars(20, ALNUM)}`,
    () => `sk-ant-api03-${g.chars(93, ALNUM + '-_')}AA`,
    () => `AIza${g.chars(35, ALNUM + '-_')}`,
    () =>
      `${b64url(JSON.stringify({ alg: g.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' }))}.${b64url(JSON.stringify({ sub: g.digits(8), name: g.pick(FIRST), iat: 1700000000 + g.int(0, 9e7) }))}.${g.chars(43, B64URL)}`,
    () => `npm_${g.chars(36, ALNUM)}`,
    () => `SG.${g.chars(22, B64URL)}.${g.chars(43, B64URL)}`,
    () => `SK${g.chars(32, HEX)}`,
    () => `hf_${g.chars(34, ALNUM)}`,
    () => `glsa_${g.chars(32, ALNUM)}_${g.chars(8, HEX)}`,
  ])();
}

function pemKey(g: Gen, nl: string): string {
  const label = g.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
  const lines = Array.from({ length: g.int(3, 6) }, () => g.chars(64, ALNUM + '+/'));
  return `-----BEGIN ${label}-----${nl}${lines.join(nl)}${nl}${g.chars(20, ALNUM)}==${nl}-----END ${label}-----`;
}

function password(g: Gen): string {
  return g
    .pick([
      () =>
        `${g.pick(['Summer', 'Winter', 'Tr0ub4dor', 'Passw0rd', 'Hunter', 'Correct'])}${g.digits(g.int(2, 4))}${g.pick(['!', '#', '$', '', '?'])}`,
      () => g.chars(g.int(10, 16), ALNUM + '!@#%^&*'),
      () =>
        `${g.chars(4, 'abcdefghijkmnpqrstuvwxyz')}-${g.digits(4)}-${g.chars(4, 'ABCDEFGHJKLMNPQRSTUVWXYZ')}`,
    ])()
    .replace(/@/g, '#');
}

// ------------------------------------------------------------------ hard negatives

function uuid(g: Gen): string {
  const h = g.chars(32, HEX);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20)}`;
}

function luhnInvalidCard(g: Gen): string {
  for (;;) {
    const n = `4${g.digits(15)}`;
    if (!luhnValid(n)) return g.chance(0.5) ? n : n.match(/.{4}/g)!.join(' ');
  }
}

function isbn13(g: Gen): string {
  const body = `978${g.digits(9)}`;
  let sum = 0;
  for (let i = 0; i < 12; i++) sum += Number(body[i]) * (i % 2 ? 3 : 1);
  const check = (10 - (sum % 10)) % 10;
  return g.chance(0.5)
    ? `${body.slice(0, 3)}-${body.slice(3, 4)}-${body.slice(4, 8)}-${body.slice(8, 12)}-${check}`
    : `${body}${check}`;
}

function negative(g: Gen): string {
  return g.pick([
    () => uuid(g),
    () => g.chars(40, HEX),
    () => g.chars(64, HEX),
    () => g.chars(g.int(7, 12), HEX),
    () => `v${g.int(0, 20)}.${g.int(0, 40)}.${g.int(0, 30)}`,
    () => `${g.int(1, 9)}.${g.int(0, 20)}.${g.int(0, 99)}`,
    () => `version ${g.int(1, 12)}.${g.int(0, 9)}.${g.int(0, 9)}.${g.int(0, 999)}`,
    () => `build 10.0.${g.int(10000, 22631)}.${g.int(1, 3000)}`,
    () =>
      `2026-${String(g.int(1, 12)).padStart(2, '0')}-${String(g.int(1, 28)).padStart(2, '0')}T${String(g.int(0, 23)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}Z`,
    () =>
      `2025-${String(g.int(1, 12)).padStart(2, '0')}-${String(g.int(1, 28)).padStart(2, '0')} ${String(g.int(0, 23)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}`,
    () => String(1700000000 + g.int(0, 9e7)),
    () => String(1700000000000 + g.int(0, 9e10)),
    () =>
      `${String(g.int(1, 28)).padStart(2, '0')}/${String(g.int(1, 12)).padStart(2, '0')}/20${g.int(10, 29)}`,
    () => `order #${g.digits(g.int(8, 12))}`,
    () => `order id ${luhnComplete(g.pick(['4', '51', '6011']), 16, g)}`,
    () => `Order ${g.pick(['A', 'B', 'ORD'])}-${g.int(2020, 2026)}-${g.digits(6)}`,
    () => `invoice INV-${g.digits(7)}`,
    () => `tracking number 1Z${g.chars(6, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789')}${g.digits(10)}`,
    () => `FedEx ${g.digits(4)} ${g.digits(4)} ${g.digits(4)}`,
    () => `USPS 9400 1${g.digits(3)} ${g.digits(4)} ${g.digits(4)} ${g.digits(4)} ${g.digits(2)}`,
    () => luhnInvalidCard(g),
    () => `ISBN ${isbn13(g)}`,
    () => `${g.int(900, 999)}-${g.digits(2)}-${g.digits(4)}`, // SSN area 9xx is never issued
    () => `000-${g.digits(2)}-${g.digits(4)}`,
    () => `DE00 ${g.digits(4)} ${g.digits(4)} ${g.digits(4)} ${g.digits(4)} ${g.digits(2)}`, // bad check digits
    () => `${g.int(256, 999)}.${g.int(0, 255)}.${g.int(0, 255)}.${g.int(0, 255)}`,
    () =>
      `${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}`,
    () =>
      `${String(g.int(0, 23)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}`,
    () => 'std::vector<int>',
    () => `icon@${g.int(2, 3)}x.png`,
    () => `git@github.com:${g.pick(LAST)}/${g.pick(['api', 'web', 'infra'])}.git`,
    () => `${g.pick(['react', 'lodash', 'zod'])}@${g.int(1, 19)}.${g.int(0, 9)}.${g.int(0, 9)}`,
    () => `@${g.pick(FIRST)}`,
    () => 'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
    () => 'ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX',
    () => 'AKIAXXXXXXXXXXXXXXXX',
    () => 'YOUR_API_KEY',
    () => `$${g.int(1, 99)},${g.digits(3)}.${g.digits(2)}`,
    () => `${g.int(-89, 89)}.${g.digits(4)}, ${g.int(-179, 179)}.${g.digits(4)}`,
    () => `#${g.chars(6, HEX)}`,
    () => `port ${g.int(1024, 65535)}`,
    () => `pid ${g.int(100, 99999)}`,
    () => `${g.int(1, 999)} ms`,
    () => `ticket ${g.pick(['JIRA', 'OPS', 'SUP'])}-${g.int(100, 99999)}`,
    () => `SKU ${g.digits(12)}`,
    () => `EAN ${g.digits(13)}`,
    () => `customer id ${g.digits(10)}`,
    () => `commit ${g.chars(40, HEX)}`,
    () => `sha256:${g.chars(64, HEX)}`,
    () => `data:image/png;base64,iVBORw0KGgo${g.chars(40, ALNUM + '+/')}`,
    () => `request_id=${g.chars(24, HEX)}`,
    () => `${g.digits(3)}-${g.digits(3)}-${g.digits(3)}`,
    () => `+${g.int(1, 9)}.${g.int(0, 9)}%`,
    () => `1.${g.digits(2)}e+${g.int(10, 30)}`,
    () => `postgres://localhost:5432/${g.pick(['app', 'prod'])}`,
    () => `password: ********`,
    () => `password=<your-password>`,
    () => `${g.int(0, 9)}.${g.int(0, 20)}.${g.int(0, 9)}-beta.${g.int(1, 9)}+build.${g.digits(4)}`,
    () => `C:\\Users\\${g.pick(FIRST)}\\AppData\\Local\\Temp\\${g.digits(8)}.tmp`,
    () => `${g.int(1, 999)},${g.digits(3)},${g.digits(3)} tokens`,
    () => `range ${g.int(10, 99)}-${g.int(100, 999)}`,
    () => `https://github.com/${g.pick(LAST)}/repo/commit/${g.chars(40, HEX)}`,
    () => `room ${g.int(100, 999)}, floor ${g.int(1, 40)}, badge ${g.digits(9)}`,
    () => `lat ${g.int(-89, 89)}.${g.digits(6)} lon ${g.int(-179, 179)}.${g.digits(6)}`,
    () => `${g.digits(4)}-${g.digits(4)}-${g.digits(4)}-${g.digits(4)}-${g.digits(4)}`,
    () => `ORD-${g.digits(3)}-${g.digits(7)}-${g.digits(7)}`,
    () => `IMEI ${g.digits(15)}`,
    () => `session_${g.chars(24, ALNUM)}`,
    () => `req_${g.chars(16, ALNUM)}`,
    () => `"max_tokens": ${g.int(16, 8192)}, "seed": ${g.digits(10)}`,
  ])();
}

// ------------------------------------------------------------------ templates

type Piece = string | { type: PiiType; value: string };

interface Builder {
  text: string;
  findings: LabelledFinding[];
}

function assemble(pieces: Piece[], escape: (s: string) => string = (s) => s): Builder {
  let text = '';
  const findings: LabelledFinding[] = [];
  for (const p of pieces) {
    if (typeof p === 'string') text += escape(p);
    else {
      const v = escape(p.value);
      findings.push({ type: p.type, start: text.length, end: text.length + v.length });
      text += v;
    }
  }
  return { text, findings };
}

const jsonEscape = (s: string) => JSON.stringify(s).slice(1, -1);
const P = (type: PiiType, value: string): Piece => ({ type, value });

interface Slot {
  type: PiiType;
  value: string;
  /** A phrase introducing it, per language. */
}

function pickPii(g: Gen): Slot {
  const t = g.pick<PiiType>([
    'email',
    'email',
    'phone',
    'phone',
    'phone',
    'credit_card',
    'us_ssn',
    'iban',
    'ip_address',
    'ip_address',
    'secret',
    'secret',
    'secret',
  ]);
  switch (t) {
    case 'email':
      return { type: t, value: email(g) };
    case 'phone':
      return { type: t, value: g.chance(0.45) ? usPhone(g) : intlPhone(g).value };
    case 'credit_card':
      return { type: t, value: card(g) };
    case 'us_ssn':
      return { type: t, value: ssn(g) };
    case 'iban':
      return { type: t, value: iban(g) };
    case 'ip_address':
      return { type: t, value: g.chance(0.6) ? ipv4(g) : ipv6(g) };
    default:
      return { type: t, value: secret(g) };
  }
}

const LEAD: Record<PiiType, Record<string, string[]>> = {
  email: {
    en: ['my email is ', 'reach me at ', 'send the invoice to ', 'cc: '],
    de: ['meine E-Mail ist ', 'bitte an '],
    fr: ['mon adresse e-mail est ', 'écrivez-moi à '],
    es: ['mi correo es ', 'escríbeme a '],
    zh: ['我的邮箱是', '请发邮件到 '],
    ja: ['メールアドレスは', '連絡先: '],
    ru: ['мой email: ', 'пишите на '],
    ar: ['بريدي الإلكتروني هو '],
    hi: ['मेरा ईमेल है '],
  },
  phone: {
    en: ['call me at ', 'my phone number is ', 'mobile: ', 'you can text ', 'Tel: '],
    de: ['meine Telefonnummer ist ', 'Tel. ', 'erreichbar unter '],
    fr: ['mon numéro est le ', 'téléphone : '],
    es: ['mi teléfono es ', 'llámame al '],
    zh: ['我的电话是', '手机：'],
    ja: ['電話番号は', '携帯: '],
    ru: ['мой телефон ', 'звоните: '],
    ar: ['رقم هاتفي '],
    hi: ['मेरा फोन नंबर '],
  },
  credit_card: {
    en: ['my card number is ', 'charge it to ', 'card: '],
    de: ['meine Kreditkarte: ', 'Kartennummer '],
    fr: ['ma carte bancaire : '],
    es: ['mi tarjeta es '],
    zh: ['信用卡号 '],
    ja: ['カード番号は'],
    ru: ['номер карты '],
    ar: ['رقم البطاقة '],
    hi: ['कार्ड नंबर '],
  },
  us_ssn: {
    en: ['my SSN is ', 'social security number: ', 'SSN '],
    de: ['US-Sozialversicherungsnummer (SSN) '],
    fr: ['numéro SSN : '],
    es: ['mi número de seguro social es '],
    zh: ['社会安全号码 '],
    ja: ['SSN: '],
    ru: ['SSN: '],
    ar: ['رقم الضمان الاجتماعي '],
    hi: ['SSN '],
  },
  iban: {
    en: ['please wire it to IBAN ', 'account: '],
    de: ['meine IBAN lautet ', 'Überweisung an '],
    fr: ['mon IBAN : ', 'RIB/IBAN '],
    es: ['mi IBAN es '],
    zh: ['银行账号 '],
    ja: ['IBAN: '],
    ru: ['IBAN: '],
    ar: ['رقم الآيبان '],
    hi: ['IBAN '],
  },
  ip_address: {
    en: ['the request came from ', 'my home IP is ', 'connect to '],
    de: ['die IP-Adresse ist ', 'Server '],
    fr: ['adresse IP : '],
    es: ['la IP es '],
    zh: ['IP地址是 '],
    ja: ['IPアドレス: '],
    ru: ['IP-адрес '],
    ar: ['عنوان IP '],
    hi: ['IP पता '],
  },
  secret: {
    en: ['here is my key ', 'use this token: ', 'the API key is ', 'auth with '],
    de: ['hier ist mein Schlüssel ', 'Token: '],
    fr: ['voici ma clé '],
    es: ['esta es mi clave '],
    zh: ['这是我的密钥 '],
    ja: ['APIキーは'],
    ru: ['вот мой ключ '],
    ar: ['هذا مفتاحي '],
    hi: ['मेरी कुंजी '],
  },
};

const FILLER: Record<string, string[]> = {
  en: [
    'Can you help me draft a reply to the customer?',
    'Thanks in advance!',
    'The meeting moved to Thursday 3pm.',
    'We shipped 3 orders last week, 2 of them late.',
    'Summarize this for the team in 5 bullet points.',
    'It failed again after the 2.4.1 update.',
  ],
  de: [
    'Kannst du mir bei der Antwort helfen?',
    'Vielen Dank im Voraus.',
    'Das Meeting ist am 12.03. um 14:00.',
  ],
  fr: ['Pouvez-vous m’aider à répondre au client ?', 'Merci d’avance.', 'La réunion est à 15 h.'],
  es: ['¿Puedes ayudarme con la respuesta?', 'Gracias de antemano.', 'La reunión es el martes.'],
  zh: ['请帮我写一封回复邮件。', '谢谢！', '会议改到周四下午三点。'],
  ja: ['返信の下書きを手伝ってください。', 'よろしくお願いします。'],
  ru: ['Помоги, пожалуйста, написать ответ клиенту.', 'Заранее спасибо.'],
  ar: ['هل يمكنك مساعدتي في كتابة الرد؟', 'شكرا مقدما.'],
  hi: ['क्या आप जवाब लिखने में मदद कर सकते हैं?', 'धन्यवाद।'],
};
const LANGS = Object.keys(FILLER);
const spaceAfterLead = (lang: string) => (lang === 'zh' || lang === 'ja' ? '' : '');

function prompt(g: Gen, id: string): EvalExample {
  const lang = g.pick(LANGS);
  const pieces: Piece[] = [];
  const n = g.int(1, 3);
  pieces.push(g.pick(FILLER[lang]!) + ' ');
  for (let i = 0; i < n; i++) {
    const slot = pickPii(g);
    // National-format phones and unformatted SSNs are recognisable only with their context words.
    pieces.push(g.pick(LEAD[slot.type][lang]!) + spaceAfterLead(lang), P(slot.type, slot.value));
    pieces.push(g.pick([' ', '. ', ', ', '。', ' — ', '\n']));
    if (g.chance(0.5)) pieces.push(negativeSentence(g, lang) + ' ');
  }
  pieces.push(g.pick(FILLER[lang]!));
  return { id, kind: 'prompt', lang, ...assemble(pieces) };
}

function negativeSentence(g: Gen, lang: string): string {
  const v = negative(g);
  const frames: Record<string, string[]> = {
    en: [`Reference: ${v}.`, `(see ${v})`, `Value was ${v} yesterday.`, `Logged ${v}.`],
    de: [`Referenz: ${v}.`, `Wert: ${v}.`],
    fr: [`Référence : ${v}.`],
    es: [`Referencia: ${v}.`],
    zh: [`参考：${v}。`],
    ja: [`参照：${v}。`],
    ru: [`Ссылка: ${v}.`],
    ar: [`المرجع: ${v}.`],
    hi: [`संदर्भ: ${v}।`],
  };
  return g.pick(frames[lang] ?? frames.en!);
}

function completion(g: Gen, id: string): EvalExample {
  const slot = pickPii(g);
  const other = pickPii(g);
  const pieces: Piece[] = g.pick([
    () => [
      'Sure! I have updated the record. The customer can be reached at ',
      P(slot.type, slot.value),
      '. Let me know if anything else is needed.',
    ],
    () => [
      'Based on the file you shared, the contact on record is ',
      P(slot.type, slot.value),
      ' and the backup is ',
      P(other.type, other.value),
      '.',
    ],
    () => [`I can't share personal data, but the ticket ${negative(g)} was closed on ${negative(g)}.`],
    () => [
      'Here is the cleaned table:\n| name | value |\n|---|---|\n| primary | ',
      P(slot.type, slot.value),
      ' |\n| build | ',
      negative(g),
      ' |',
    ],
  ])();
  return { id, kind: 'completion', lang: 'en', ...assemble(pieces) };
}

function toolCall(g: Gen, id: string): EvalExample {
  const slot = pickPii(g);
  const key = {
    email: 'email',
    phone: 'phone',
    credit_card: 'card_number',
    us_ssn: 'ssn',
    iban: 'iban',
    ip_address: 'client_ip',
    secret: 'api_key',
  }[slot.type];
  const pieces: Piece[] = g.pick([
    () => [
      `{"role":"assistant","tool_calls":[{"id":"call_${g.chars(8, ALNUM)}","type":"function","function":{"name":"update_customer","arguments":"{\\"customer_id\\":\\"${uuid(g)}\\",\\"${key}\\":\\"`,
      P(slot.type, slot.value),
      `\\"}"}}]}`,
    ],
    () => [
      `{"name":"lookup","arguments":{"${key}":"`,
      P(slot.type, slot.value),
      `","request_id":"${g.chars(16, HEX)}","ts":${1700000000 + g.int(0, 9e7)}}}`,
    ],
    () => [
      `{"role":"tool","content":"${jsonEscape(`Found 1 match (${negative(g)}). Contact: `)}`,
      P(slot.type, jsonEscape(slot.value)),
      `\\nUpdated: ${negative(g)}"}`,
    ],
    () => [
      `{"model":"gpt-4o-mini","messages":[{"role":"user","content":"${jsonEscape(negative(g))} and my ${key} is `,
      P(slot.type, slot.value),
      `"}],"max_tokens":${g.int(64, 4096)},"temperature":0.${g.int(0, 9)}}`,
    ],
  ])();
  return { id, kind: 'tool', lang: 'json', ...assemble(pieces) };
}

function logLine(g: Gen, id: string): EvalExample {
  const ts = `2026-11-${String(g.int(1, 28)).padStart(2, '0')}T${String(g.int(0, 23)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}.${g.digits(3)}Z`;
  const pieces: Piece[] = g.pick([
    () => [
      `${ts} INFO  [http] POST /v1/login 200 ${g.int(2, 900)}ms ip=`,
      P('ip_address', g.chance(0.7) ? ipv4(g) : ipv6(g)),
      ` user=`,
      P('email', email(g)),
      ` req=${uuid(g)}`,
    ],
    () => [
      `${ts} WARN  auth failed for `,
      P('email', email(g)),
      ` from `,
      P('ip_address', ipv4(g)),
      ` (attempt ${g.int(1, 5)}/5)`,
    ],
    () => [
      `${ts} DEBUG outbound call headers={"Authorization":"Bearer `,
      P('secret', secret(g)),
      `","X-Request-Id":"${g.chars(32, HEX)}"}`,
    ],
    () => [
      `${ts} ERROR db connect failed: postgres://app_user:`,
      P('secret', password(g)),
      `@db-${g.int(1, 9)}.internal:5432/orders (timeout ${g.int(1, 30)}s)`,
    ],
    () => [
      `${ts} INFO  job ${g.int(1000, 99999)} done in ${g.int(1, 9999)} ms, rows=${g.int(0, 1e6)}, commit=${g.chars(7, HEX)}, version=${g.int(1, 9)}.${g.int(0, 30)}.${g.int(0, 9)}`,
    ],
    () => [
      `${ts} INFO  payment ok order=${g.digits(10)} amount=${g.int(1, 999)}.${g.digits(2)} EUR card=****${g.digits(4)} trace=${g.chars(32, HEX)}`,
    ],
    () => [
      `[${ts}] sms sent to `,
      P('phone', g.chance(0.5) ? usPhone(g) : intlPhone(g).value),
      ` status=delivered sid=SM${g.chars(32, HEX)}`,
    ],
  ])();
  return { id, kind: 'log', lang: 'log', ...assemble(pieces) };
}

function code(g: Gen, id: string): EvalExample {
  const pieces: Piece[] = g.pick([
    () => [
      `import os\nclient = OpenAI(api_key="`,
      P('secret', secret(g)),
      `")\nresp = client.chat.completions.create(model="gpt-4o", max_tokens=${g.int(1, 4096)})\n`,
    ],
    () => [
      `# .env\nDATABASE_URL=mysql://root:`,
      P('secret', password(g)),
      '@',
      P('ip_address', '127.0.0.1'),
      `:3306/app\nDB_PASSWORD=`,
      P('secret', password(g)),
      `\nLOG_LEVEL=debug\nPORT=${g.int(3000, 9000)}\n`,
    ],
    () => [
      `const config = {\n  region: "eu-west-1",\n  accessKeyId: "`,
      P('secret', `AKIA${g.chars(16, B32)}`),
      `",\n  secretAccessKey: "`,
      P('secret', g.chars(40, ALNUM + '/+')),
      `",\n  timeout: ${g.int(100, 60000)},\n};\n`,
    ],
    () => [
      `const key = \`${pemKey(g, '\n').slice(0, 0)}`,
      P('secret', pemKey(g, '\n')),
      '`;\nexport default key;\n',
    ],
    () => [
      `def test_parse():\n    assert parse("${uuid(g)}") == ${g.int(0, 1e6)}\n    assert version("${g.int(1, 9)}.${g.int(0, 9)}.${g.int(0, 9)}") > (1, 2)\n    h = "${g.chars(64, HEX)}"\n`,
    ],
    () => [
      `curl -H "Authorization: Bearer `,
      P('secret', secret(g)),
      `" https://api.example.com/v1/items?since=${g.int(1700000000, 1790000000)}\n`,
    ],
    () => [
      `for (let i = 0; i < ${g.int(1, 1000)}; i++) {\n  buf[i] = (i * 0x${g.chars(4, HEX)}) >>> ${g.int(1, 31)};\n}\n// ${negative(g)}\n`,
    ],
  ])();
  return { id, kind: 'code', lang: 'code', ...assemble(pieces) };
}

function hardNegative(g: Gen, id: string): EvalExample {
  const lang = g.pick(LANGS);
  const k = g.int(2, 4);
  const parts: string[] = [g.pick(FILLER[lang]!)];
  for (let i = 0; i < k; i++) parts.push(negativeSentence(g, lang));
  return { id, kind: 'negative', lang, text: parts.join(' '), findings: [] };
}

/** Deterministic corpus: `size` examples, ~40 % hard negatives. */
export function generateCorpus(size = 2000, seed = 20261123): EvalExample[] {
  const g = new Gen(seededRandom(seed));
  const out: EvalExample[] = [];
  for (let i = 0; i < size; i++) {
    const id = `ex-${String(i).padStart(5, '0')}`;
    const x = g.r();
    out.push(
      x < 0.4
        ? hardNegative(g, id)
        : x < 0.65
          ? prompt(g, id)
          : x < 0.73
            ? completion(g, id)
            : x < 0.83
              ? toolCall(g, id)
              : x < 0.93
                ? logLine(g, id)
                : code(g, id),
    );
  }
  return out;
}

import type { CountryCode, PhoneNumber } from 'libphonenumber-js/max';
import { getCountries, Metadata, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import { DEFAULT_PHONE_REGIONS } from '../../src/pii/numeric.js';
import type { PiiType } from '../../src/pii/types.js';
import { seededRandom } from '../../src/random.js';
import type { EvalExample, LabelledFinding } from './corpus.js';

/**
 * A second PII evaluation corpus, generated from the formats' specifications rather than from
 * the detectors: this file imports nothing from the scanner except the default phone-region
 * list (the scope the scanner promises). Checksums (Luhn, ISO 7064 mod 97-10, CRC32) are
 * implemented here again; phone numbers are drawn from libphonenumber's per-region, per-type
 * number patterns and written the ways people write them in that region; secrets follow the
 * providers' documented shapes. Values sit in carrier text of several kinds and languages.
 * Hard negatives are things a careless detector flags: placeholders and template variables,
 * masked values, identifiers, timestamps, hashes, wrong checksums, numbers valid in no region.
 *
 * Written before looking at what the scanner misses; its shapes were not adjusted to it.
 */

type Rng = () => number;

class Gen {
  constructor(readonly r: Rng) {}
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.r() * (hi - lo + 1));
  }
  pick<T>(a: readonly T[]): T {
    return a[Math.floor(this.r() * a.length)]!;
  }
  chance(p: number): boolean {
    return this.r() < p;
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
}

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const DIG = '0123456789';
const ALNUM = UPPER + LOWER + DIG;
const HEX = '0123456789abcdef';
const B64 = ALNUM + '+/';
const B64URL = ALNUM + '-_';
const B32 = UPPER + '234567';

// ------------------------------------------------------------------ checksums (from the specs)

/** ISO/IEC 7812 Luhn check digit for `partial` (all digits but the last). */
function luhnCheckDigit(partial: string): string {
  let sum = 0;
  for (let i = 0; i < partial.length; i++) {
    let d = Number(partial[partial.length - 1 - i]);
    if (i % 2 === 0) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return String((10 - (sum % 10)) % 10);
}

/** ISO 7064 mod 97-10 of a string of digits and upper-case letters (A = 10 … Z = 35). */
function mod97(s: string): number {
  let rem = 0;
  for (const ch of s) {
    const v = ch >= 'A' && ch <= 'Z' ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of v) rem = (rem * 10 + Number(d)) % 97;
  }
  return rem;
}

function crc32(s: string): number {
  let crc = 0xffffffff;
  for (let i = 0; i < s.length; i++) {
    crc ^= s.charCodeAt(i);
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0xedb88320 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function base62(n: number, width: number): string {
  const A = DIG + UPPER + LOWER;
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 62)) out = A[v % 62]! + out;
  return out.padStart(width, '0');
}

// ------------------------------------------------------------------ values

/** SSA: area 001–899 except 666, group 01–99, serial 0001–9999. */
function ssn(g: Gen): [string, string, string] {
  let area = g.int(1, 899);
  if (area === 666) area = 667;
  return [
    String(area).padStart(3, '0'),
    String(g.int(1, 99)).padStart(2, '0'),
    String(g.int(1, 9999)).padStart(4, '0'),
  ];
}

/** Issuer IIN ranges and lengths (ISO/IEC 7812, issuers' published ranges). */
const ISSUERS: ReadonlyArray<{ name: string; prefix: (g: Gen) => string; lengths: number[] }> = [
  { name: 'Visa', prefix: () => '4', lengths: [16] },
  { name: 'Mastercard', prefix: (g) => String(g.int(51, 55)), lengths: [16] },
  { name: 'Mastercard', prefix: (g) => String(g.int(2221, 2720)), lengths: [16] },
  { name: 'American Express', prefix: (g) => g.pick(['34', '37']), lengths: [15] },
  { name: 'Discover', prefix: (g) => g.pick(['6011', '65', String(g.int(644, 649))]), lengths: [16] },
  { name: 'JCB', prefix: (g) => String(g.int(3528, 3589)), lengths: [16] },
  { name: 'Diners Club', prefix: (g) => g.pick(['36', String(g.int(300, 305))]), lengths: [14] },
  { name: 'UnionPay', prefix: () => '62', lengths: [16, 19] },
];

function cardDigits(g: Gen, valid = true): { digits: string; amexLike: boolean } {
  const issuer = g.pick(ISSUERS);
  const len = g.pick(issuer.lengths);
  const p = issuer.prefix(g);
  const partial = p + g.digits(len - 1 - p.length);
  const check = luhnCheckDigit(partial);
  const digit = valid ? check : String((Number(check) + g.int(1, 9)) % 10);
  return { digits: partial + digit, amexLike: len === 15 || len === 14 };
}

function writeCard(g: Gen, d: string, amexLike: boolean): string {
  const style = g.int(0, 2);
  if (style === 0) return d;
  const sep = style === 1 ? ' ' : '-';
  if (amexLike) return [d.slice(0, 4), d.slice(4, 10), d.slice(10)].join(sep);
  const groups: string[] = [];
  for (let i = 0; i < d.length; i += 4) groups.push(d.slice(i, i + 4));
  return groups.join(sep);
}

/** IBAN registry (SWIFT, ISO 13616): BBAN structure per country. n = digits, a = upper, c = alnum. */
const IBAN_BBAN: Record<string, string> = {
  DE: '18n',
  FR: '10n11c2n',
  GB: '4a14n',
  NL: '4a10n',
  ES: '20n',
  IT: '1a10n12c',
  BE: '12n',
  CH: '5n12c',
  AT: '16n',
  PL: '24n',
  SE: '20n',
  DK: '14n',
  NO: '11n',
  FI: '14n',
  PT: '21n',
  IE: '4a14n',
  LU: '3n13c',
  SA: '2n18c',
  TR: '5n1n16c',
  UA: '6n19c',
  CZ: '20n',
  GR: '7n16c',
  RO: '4a16c',
  HU: '24n',
};

function iban(g: Gen, valid = true): string {
  const country = g.pick(Object.keys(IBAN_BBAN));
  let bban = '';
  for (const [, n, kind] of IBAN_BBAN[country]!.matchAll(/(\d+)([nac])/g)) {
    const alphabet = kind === 'n' ? DIG : kind === 'a' ? UPPER : UPPER + DIG;
    bban += g.chars(Number(n), alphabet);
  }
  let check = 98 - mod97(bban + country + '00');
  if (!valid) check = ((check - 2 + g.int(1, 95)) % 97) + 2; // another 02–98 value: wrong check
  return country + String(check).padStart(2, '0') + bban;
}

function writeIban(g: Gen, compact: string): string {
  if (g.chance(0.5)) return compact;
  return compact.replace(/(.{4})(?=.)/g, '$1 ');
}

const FIRST = [
  'anna',
  'john',
  'maria',
  'wei',
  'yuki',
  'olga',
  'ahmed',
  'priya',
  'lukas',
  'chloé',
  'diego',
  'sven',
  'mei',
  'fatima',
  'oliver',
  'zoë',
  'raj',
  'ines',
  'tomás',
  'hannah',
];
const LAST = [
  'schmidt',
  'dupont',
  'garcia',
  'tanaka',
  'ivanova',
  'smith',
  'kowalski',
  'rossi',
  'nguyen',
  'silva',
  'müller',
  'okafor',
  'lee',
  'martin',
  'novak',
  'haddad',
];
const MAIL_DOMAINS = [
  'gmail.com',
  'outlook.com',
  'yahoo.co.jp',
  'web.de',
  'gmx.net',
  'orange.fr',
  'mail.ru',
  'qq.com',
  'acme-corp.com',
  'uni-heidelberg.de',
  'sub.company.io',
  'hospital.org',
  'agency.gov.uk',
  'startup.ai',
  'shop.com.br',
  'firma.at',
  'example.com',
  'kanzlei-weber.de',
  'mairie-lyon.fr',
  'proton.me',
];

function ascii(s: string): string {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

/** Local parts people use (RFC 5322 dot-atoms): first.last, flast, first_last99, first+tag, … */
function email(g: Gen): string {
  const f = ascii(g.pick(FIRST));
  const l = ascii(g.pick(LAST));
  const local = g.pick([
    `${f}.${l}`,
    `${f[0]}${l}`,
    `${f}_${l}${g.int(1, 99)}`,
    `${f}+${g.pick(['news', 'billing', 'github', 'test'])}`,
    `${f}${g.int(1970, 2005)}`,
    `${f}-${l}`,
    `${l}.${f}.${g.int(1, 9)}`,
    `${g.pick(['info', 'support', 'billing', 'hr', 'no-reply', 'ops'])}`,
    `${f}.${l}`.toUpperCase(),
    `${f}`,
  ]);
  return `${local}@${g.pick(MAIL_DOMAINS)}`;
}

function ipv4(g: Gen): string {
  const first = g.pick([g.int(1, 223), 10, 172, 192, 203, 198, 100]);
  const second = first === 172 ? g.int(16, 31) : first === 192 ? 168 : g.int(0, 255);
  return `${first}.${second}.${g.int(0, 255)}.${g.int(1, 254)}`;
}

/** RFC 4291 text forms; compression per RFC 5952 (longest run of ≥ 2 zero groups, lower case). */
function ipv6(g: Gen): string {
  const kind = g.int(0, 4);
  if (kind === 0)
    return `fe80::${g.chars(g.int(1, 4), HEX).replace(/^0+(?=.)/, '')}:${g.chars(4, HEX).replace(/^0+(?=.)/, '')}:${g.chars(4, HEX).replace(/^0+(?=.)/, '')}:${g.chars(3, HEX)}`;
  if (kind === 1) return `::ffff:${ipv4(g)}`;
  const groups: string[] = [];
  const prefix = g.pick(['2001:db8', '2001:4860', '2a00:1450', '2606:4700', 'fd12:3456']);
  groups.push(...prefix.split(':'));
  while (groups.length < 8)
    groups.push(g.chance(0.4) ? '0' : g.chars(g.int(1, 4), HEX).replace(/^0+(?=.)/, ''));
  if (kind === 2) return groups.join(':'); // uncompressed, leading zeros dropped
  // Compress the longest zero run of length ≥ 2.
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) {
    groups[3] = '0';
    groups[4] = '0';
    best = 3;
    bestLen = 2;
  }
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

// ------------------------------------------------------------------ phone numbers from metadata

interface NumberTypeMeta {
  pattern(): string;
  possibleLengths(): number[] | undefined;
}
interface NumberingPlanMeta {
  type(t: string): NumberTypeMeta | undefined;
}
const metadata = new Metadata();
function numberingPlan(region: CountryCode): NumberingPlanMeta {
  metadata.selectNumberingPlan(region);
  return metadata.numberingPlan as unknown as NumberingPlanMeta;
}

/**
 * A random string matching one of libphonenumber's national-number patterns. The patterns use
 * a small regex subset: digits, \d, [..] classes with ranges, (?:…|…) groups, ? and {m,n}.
 */
function sampleRegex(g: Gen, source: string): string {
  let pos = 0;
  const alternation = (): string => {
    const branches: number[] = [];
    // Pick a branch first: parse every branch, keep one output.
    const outs: string[] = [];
    for (;;) {
      branches.push(pos);
      outs.push(sequence());
      if (source[pos] === '|') {
        pos++;
        continue;
      }
      break;
    }
    return g.pick(outs);
  };
  const sequence = (): string => {
    let out = '';
    while (pos < source.length && source[pos] !== '|' && source[pos] !== ')') {
      const atomStart = pos;
      let gen: () => string;
      const c = source[pos]!;
      if (c === '(') {
        pos += source.startsWith('(?:', pos) ? 3 : 1;
        const groupStart = pos;
        alternation(); // advance past the group once to find its end
        const groupEnd = pos;
        pos++; // ')'
        gen = () => {
          const save = pos;
          pos = groupStart;
          const s = alternation();
          if (pos !== groupEnd) throw new Error('regex sampler: group mismatch');
          pos = save;
          return s;
        };
      } else if (c === '[') {
        const close = source.indexOf(']', pos);
        const body = source.slice(pos + 1, close);
        const set: string[] = [];
        for (let i = 0; i < body.length; i++) {
          if (body[i] === '\\' && body[i + 1] === 'd') {
            set.push(...DIG);
            i++;
          } else if (body[i + 1] === '-' && i + 2 < body.length) {
            for (let x = body.charCodeAt(i); x <= body.charCodeAt(i + 2); x++)
              set.push(String.fromCharCode(x));
            i += 2;
          } else set.push(body[i]!);
        }
        pos = close + 1;
        gen = () => g.pick(set);
      } else if (c === '\\') {
        if (source[pos + 1] !== 'd') throw new Error(`regex sampler: \\${source[pos + 1]}`);
        pos += 2;
        gen = () => String(g.int(0, 9));
      } else if (c >= '0' && c <= '9') {
        pos++;
        gen = () => c;
      } else throw new Error(`regex sampler: unsupported '${c}' at ${atomStart} in ${source}`);
      let min = 1;
      let max = 1;
      if (source[pos] === '?') {
        min = 0;
        pos++;
      } else if (source[pos] === '{') {
        const close = source.indexOf('}', pos);
        const [a, b] = source.slice(pos + 1, close).split(',');
        min = Number(a);
        max = b === undefined ? min : Number(b);
        pos = close + 1;
      }
      const times = g.int(min, max);
      for (let k = 0; k < times; k++) out += gen();
    }
    return out;
  };
  const s = alternation();
  return s;
}

type PhoneKind = 'FIXED_LINE' | 'MOBILE';

/**
 * Plans with a wide length range (DE fixed lines: 5–15 digits) mostly issue numbers near the
 * middle of it: short legacy subscriber numbers and the longest extensions are rare in text.
 */
function typicalLength(lengths: number[], len: number): boolean {
  const sorted = [...lengths].sort((a, b) => a - b);
  const median =
    (sorted[Math.floor((sorted.length - 1) / 2)]! + sorted[Math.ceil((sorted.length - 1) / 2)]!) / 2;
  return len >= Math.floor(median) - 1 && len <= Math.ceil(median) + 1;
}

function phoneNumber(g: Gen, region: CountryCode): PhoneNumber {
  const plan = numberingPlan(region);
  for (let attempt = 0; attempt < 200; attempt++) {
    const kind: PhoneKind = g.pick(['FIXED_LINE', 'MOBILE']);
    const type = plan.type(kind);
    if (!type) continue;
    const nsn = sampleRegex(g, type.pattern());
    const lengths = type.possibleLengths() ?? [nsn.length];
    if (!lengths.includes(nsn.length) || !typicalLength(lengths, nsn.length)) continue;
    const p = parsePhoneNumberFromString(nsn, region);
    if (p?.isValid() && p.country === region) return p;
  }
  throw new Error(`no valid number drawn for ${region}`);
}

/**
 * How people write a number of `region`: the national format as libphonenumber prints it, the
 * same groups with other separators the region uses, compact, and international forms.
 */
function writePhone(g: Gen, p: PhoneNumber, region: CountryCode): string {
  const national = p.formatNational();
  const intl = p.formatInternational();
  const trunk0 = national.startsWith('0');
  const styles: string[] = ['national', 'national', 'intl', 'intl', 'e164', 'national-compact'];
  if (!national.includes('(') && /\s/.test(national)) styles.push('national-dash');
  if (['FR', 'BE', 'CH', 'US', 'ES', 'IT', 'NL'].includes(region) && !national.includes('('))
    styles.push('national-dot');
  if (['DE', 'AT'].includes(region) && trunk0) styles.push('national-slash', 'national-paren');
  if (['GB', 'AU', 'NZ', 'IE', 'IN'].includes(region) && trunk0) styles.push('national-paren');
  if (['DE', 'GB', 'AT', 'CH', 'NL', 'BE'].includes(region) && trunk0) styles.push('intl-trunk');
  if (!['US', 'JP', 'AU', 'KR', 'RU', 'BR'].includes(region)) styles.push('idd00');
  styles.push('intl-dash');
  const style = g.pick(styles);
  const [area, ...rest] = national.replace(/[()]/g, '').split(/[\s-]+/);
  switch (style) {
    case 'national':
      return national;
    case 'national-compact':
      return national.replace(/\D/g, '');
    case 'national-dash':
      return national.replace(/\s+/g, '-');
    case 'national-dot':
      return national.replace(/[()]/g, '').replace(/[\s-]+/g, '.');
    case 'national-slash':
      return `${area}/${rest.join(g.chance(0.5) ? '' : ' ')}`;
    case 'national-paren':
      return `(${area}) ${rest.join(' ')}`;
    case 'intl':
      return intl;
    case 'intl-dash':
      return intl.replace(/\s+/g, '-');
    case 'intl-trunk': {
      const [cc, ...groups] = intl.split(' ');
      return `${cc} (0)${groups.join(' ')}`;
    }
    case 'idd00':
      return `00${intl.slice(1)}`;
    default:
      return p.number;
  }
}

// ------------------------------------------------------------------ secrets (providers' documented shapes)

interface SecretSample {
  /** The carrier's field / variable name for it. */
  field: string;
  value: string;
  /** A sentence naming what it is, for prose carriers. */
  noun: string;
}

function githubClassic(g: Gen): string {
  const body = g.chars(30, ALNUM);
  return `${g.pick(['ghp', 'gho', 'ghs', 'ghu'])}_${body}${base62(crc32(body), 6)}`;
}

function jwt(g: Gen): string {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const header = enc({ alg: g.pick(['HS256', 'RS256', 'ES256']), typ: 'JWT' });
  const now = 1_760_000_000 + g.int(0, 10_000_000);
  const payload = enc({
    sub: g.chance(0.5) ? String(g.int(1000, 999999)) : g.chars(24, HEX),
    iat: now,
    exp: now + 3600,
    ...(g.chance(0.5) ? { scope: 'read write', iss: 'https://auth.acme-corp.com/' } : {}),
  });
  return `${header}.${payload}.${g.chars(43, B64URL)}`;
}

function pemKey(g: Gen, escaped: boolean): string {
  const label = g.pick(['RSA PRIVATE KEY', 'PRIVATE KEY', 'EC PRIVATE KEY', 'OPENSSH PRIVATE KEY']);
  const nl = escaped ? '\\n' : '\n';
  const lines: string[] = [];
  const n = g.int(3, 8);
  for (let i = 0; i < n; i++) lines.push(g.chars(i === n - 1 ? g.int(10, 63) : 64, B64));
  return `-----BEGIN ${label}-----${nl}${lines.join(nl)}${g.chance(0.5) ? '=' : ''}${nl}-----END ${label}-----`;
}

/** Passwords people choose: words with digits/symbols, or generated. */
function password(g: Gen): string {
  const word = g.pick([
    'Sommer',
    'dragon',
    'Monkey',
    'sunshine',
    'Falcon',
    'lavande',
    'Tigre',
    'winter',
    'Qwerty',
    'Bluebird',
  ]);
  return g.pick([
    `${word}${g.int(10, 2030)}${g.pick(['!', '#', '$', '', '?'])}`,
    g.chars(g.int(12, 24), ALNUM + '!@#%^&*-_'),
    `${g.chars(4, LOWER)}-${g.chars(4, LOWER)}-${g.digits(4)}`,
    `${word.toLowerCase()}_${g.chars(6, ALNUM)}`,
    g.chars(g.int(16, 32), ALNUM),
  ]);
}

function secretSample(g: Gen): SecretSample {
  switch (g.int(0, 12)) {
    case 0:
      return { field: 'aws_access_key_id', value: 'AKIA' + g.chars(16, B32), noun: 'AWS access key ID' };
    case 1:
      return { field: 'aws_secret_access_key', value: g.chars(40, B64), noun: 'AWS secret access key' };
    case 2:
      return { field: 'GITHUB_TOKEN', value: githubClassic(g), noun: 'GitHub token' };
    case 3:
      return {
        field: 'GITHUB_TOKEN',
        value: `github_pat_${g.chars(22, ALNUM)}_${g.chars(59, ALNUM)}`,
        noun: 'fine-grained GitHub token',
      };
    case 4:
      return {
        field: 'SLACK_BOT_TOKEN',
        value: `xoxb-${g.digits(g.int(10, 13))}-${g.digits(g.int(10, 13))}-${g.chars(24, ALNUM)}`,
        noun: 'Slack bot token',
      };
    case 5:
      return {
        field: 'STRIPE_SECRET_KEY',
        value: `${g.pick(['sk_live_', 'sk_test_', 'rk_live_'])}${g.pick(['51', ''])}${g.chars(g.pick([24, 99]), ALNUM)}`,
        noun: 'Stripe secret key',
      };
    case 6:
      return {
        field: 'OPENAI_API_KEY',
        value: g.pick([
          `sk-proj-${g.chars(g.pick([48, 74, 156]), B64URL)}`,
          `sk-${g.chars(20, ALNUM)}T3BlbkFJ${g.chars(20, ALNUM)}`,
          `sk-svcacct-${g.chars(74, B64URL)}`,
        ]),
        noun: 'OpenAI API key',
      };
    case 7:
      return {
        field: 'ANTHROPIC_API_KEY',
        value: `sk-ant-api03-${g.chars(93, B64URL)}AA`,
        noun: 'Anthropic API key',
      };
    case 8:
      return { field: 'access_token', value: jwt(g), noun: 'JWT' };
    case 9:
      return { field: 'DB_PASSWORD', value: password(g), noun: 'database password' };
    case 10:
      return {
        field: 'SLACK_WEBHOOK_URL',
        value: `https://hooks.slack.com/services/T${g.chars(10, UPPER + DIG)}/B${g.chars(10, UPPER + DIG)}/${g.chars(24, ALNUM)}`,
        noun: 'Slack webhook',
      };
    case 11:
      return { field: 'api_key', value: `AIza${g.chars(35, B64URL)}`, noun: 'Google API key' };
    default:
      return {
        field: 'client_secret',
        value: g.chars(g.int(32, 48), ALNUM + '-_~.'),
        noun: 'OAuth client secret',
      };
  }
}

// ------------------------------------------------------------------ carriers

/** Text assembled piece by piece; `v()` appends a labelled value. */
class Doc {
  text = '';
  findings: LabelledFinding[] = [];
  t(s: string): this {
    this.text += s;
    return this;
  }
  v(type: PiiType, s: string): this {
    this.findings.push({ type, start: this.text.length, end: this.text.length + s.length });
    this.text += s;
    return this;
  }
}

type Lang = 'en' | 'de' | 'fr' | 'es' | 'pt' | 'ja' | 'zh' | 'ru';
const LANGS: readonly Lang[] = ['en', 'en', 'en', 'de', 'fr', 'es', 'pt', 'ja', 'zh', 'ru'];

/** Prose around a value of a type, per language: [before, after]. */
const PROSE: Record<Exclude<PiiType, 'secret'>, Record<Lang, Array<[string, string]>>> = {
  email: {
    en: [
      ['Please send the signed contract to ', ' by Friday.'],
      ['You can reach me at ', ' if anything changes.'],
      ['cc ', ' on the reply, thanks'],
    ],
    de: [
      ['Bitte schick die Rechnung an ', ', danke!'],
      ['Meine E-Mail-Adresse lautet ', '.'],
    ],
    fr: [
      ['Écrivez-moi à ', ' pour confirmer.'],
      ['Mon adresse : ', ''],
    ],
    es: [
      ['Mi correo es ', ', escríbeme cuando puedas.'],
      ['Envía el informe a ', ' antes del lunes.'],
    ],
    pt: [
      ['Meu e-mail é ', '.'],
      ['Mande para ', ' por favor'],
    ],
    ja: [
      ['請求書は', 'まで送ってください。'],
      ['メール：', ''],
    ],
    zh: [
      ['请把文件发到', '，谢谢。'],
      ['我的邮箱是 ', ''],
    ],
    ru: [
      ['Пишите на ', ', отвечу сегодня.'],
      ['Мой адрес: ', ''],
    ],
  },
  phone: {
    en: [
      ['Call me at ', ' after 5pm.'],
      ['My number is ', ', text first please.'],
      ['Customer phone: ', ''],
      ['reach the site manager on ', ' tomorrow'],
      ['', ' is my cell, call anytime'],
    ],
    de: [
      ['Ruf mich unter ', ' an.'],
      ['Tel.: ', ''],
      ['Meine Handynummer ist ', ', am besten abends.'],
      ['Erreichbar unter ', ' (Mo–Fr)'],
    ],
    fr: [
      ['Appelez-moi au ', ' demain matin.'],
      ['Tél. : ', ''],
      ['Mon numéro de portable est le ', '.'],
      ['Vous pouvez me joindre au ', ''],
    ],
    es: [
      ['Llámame al ', ' cuando llegues.'],
      ['Mi teléfono es ', '.'],
      ['Tel. ', ''],
    ],
    pt: [
      ['Me liga no ', ' amanhã.'],
      ['Telefone: ', ''],
    ],
    ja: [
      ['電話番号は', 'です。'],
      ['携帯：', ''],
    ],
    zh: [
      ['我的电话是', '，请晚上打。'],
      ['联系电话：', ''],
    ],
    ru: [
      ['Позвоните мне по номеру ', ' после обеда.'],
      ['Тел.: ', ''],
    ],
  },
  credit_card: {
    en: [
      ['Please charge my card ', ' for the renewal.'],
      ['Card number: ', ' exp 09/28'],
      ['The customer paid with ', ', can you refund it?'],
    ],
    de: [['Meine Kreditkartennummer ist ', ', gültig bis 03/27.']],
    fr: [['Numéro de carte : ', '']],
    es: [['Mi tarjeta es ', ', caduca en 11/27.']],
    pt: [['Cartão: ', '']],
    ja: [['カード番号は', 'です。']],
    zh: [['我的信用卡号是', '。']],
    ru: [['Номер карты ', ', срок до 05/29.']],
  },
  us_ssn: {
    en: [
      ['My SSN is ', ', do you need anything else?'],
      ['Social Security Number: ', ''],
      ['SSN ', ' on the W-2 looks wrong'],
      ['The applicant’s social security no. is ', '.'],
    ],
    de: [['Seine US-Sozialversicherungsnummer (SSN): ', '']],
    fr: [['Numéro de sécurité sociale américain (SSN) : ', '']],
    es: [['Mi número de seguro social (SSN) es ', '.']],
    pt: [['SSN do cliente: ', '']],
    ja: [['SSN：', '']],
    zh: [['社会安全号码 (SSN)：', '']],
    ru: [['SSN клиента: ', '']],
  },
  iban: {
    en: [
      ['Please wire the refund to IBAN ', '.'],
      ['Account: ', ' (Deutsche Bank)'],
    ],
    de: [
      ['Bitte überweisen Sie den Betrag auf ', ' bis Monatsende.'],
      ['IBAN: ', ''],
    ],
    fr: [
      ['Mon IBAN est ', ', merci.'],
      ['RIB / IBAN : ', ''],
    ],
    es: [['Transferencia a la cuenta ', ', por favor.']],
    pt: [['IBAN para reembolso: ', '']],
    ja: [['振込先IBAN：', '']],
    zh: [['收款账户 IBAN：', '']],
    ru: [['Реквизиты: IBAN ', '']],
  },
  ip_address: {
    en: [
      ['Requests from ', ' keep failing with 403.'],
      ['Please whitelist ', ' on the firewall.'],
      ['The VPN gateway is at ', ' now.'],
    ],
    de: [['Der Server hat die Adresse ', '.']],
    fr: [['Le serveur répond sur ', ' depuis ce matin.']],
    es: [['La IP del cliente es ', '.']],
    pt: [['O IP do servidor é ', '.']],
    ja: [['サーバーのIPは', 'です。']],
    zh: [['服务器地址是 ', '。']],
    ru: [['Сервер доступен по адресу ', '.']],
  },
};

const FIELD: Record<Exclude<PiiType, 'secret'>, string[]> = {
  email: ['email', 'contact_email', 'reply_to', 'user_email'],
  phone: ['phone', 'mobile', 'phone_number', 'tel', 'contact_phone'],
  credit_card: ['card_number', 'pan', 'cc_number'],
  us_ssn: ['ssn', 'social_security_number'],
  iban: ['iban', 'payout_iban'],
  ip_address: ['client_ip', 'remote_addr', 'peer', 'ip'],
};

const PREAMBLE: Record<Lang, string[]> = {
  en: [
    'Hi, quick question about my account. ',
    'Summarize this ticket for the support team:\n',
    'Draft a polite reply to this message: "',
    '',
  ],
  de: ['Hallo, kurze Frage zu meiner Bestellung. ', 'Fasse das Ticket zusammen:\n', ''],
  fr: ['Bonjour, une question sur ma commande. ', 'Résume ce message :\n', ''],
  es: ['Hola, tengo una duda. ', 'Resume este mensaje:\n', ''],
  pt: ['Olá, uma dúvida rápida. ', ''],
  ja: ['こんにちは。', '次の問い合わせを要約してください：\n', ''],
  zh: ['你好，', '请总结以下工单：\n', ''],
  ru: ['Здравствуйте! ', 'Кратко перескажи обращение:\n', ''],
};

function timestamp(g: Gen): string {
  return `2026-${String(g.int(1, 12)).padStart(2, '0')}-${String(g.int(1, 28)).padStart(2, '0')}T${String(g.int(0, 23)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}.${g.digits(3)}Z`;
}

function uuid(g: Gen): string {
  return `${g.chars(8, HEX)}-${g.chars(4, HEX)}-4${g.chars(3, HEX)}-${g.pick(['8', '9', 'a', 'b'])}${g.chars(3, HEX)}-${g.chars(12, HEX)}`;
}

/** One PII value of a non-secret type in a carrier of the given kind. */
function personal(
  g: Gen,
  d: Doc,
  type: Exclude<PiiType, 'secret'>,
  value: string,
  kind: string,
  lang: Lang,
): void {
  const field = g.pick(FIELD[type]);
  switch (kind) {
    case 'json':
      d.t(
        `{"type":"function","function":{"name":"${g.pick(['update_customer', 'create_ticket', 'lookup_user', 'send_invoice'])}","arguments":"{\\"${field}\\":\\"`,
      )
        .v(type, value)
        .t(`\\",\\"request_id\\":\\"${uuid(g)}\\"}"}}`);
      return;
    case 'json-plain':
      d.t(`{"${field}": "`)
        .v(type, value)
        .t(`", "updated_at": "${timestamp(g)}"}`);
      return;
    case 'log': {
      // Addresses in logs usually carry their port: 10.0.0.5:8080, [2001:db8::1]:443.
      const port = type === 'ip_address' && g.chance(0.5) ? String(g.int(1024, 65535)) : '';
      const v6 = value.includes(':');
      d.t(
        `${timestamp(g)} ${g.pick(['INFO', 'WARN', 'DEBUG'])} [${g.pick(['api', 'billing', 'auth', 'crm'])}] ${g.pick(['updated profile', 'login attempt', 'webhook received', 'validation failed'])} ${field}=${port && v6 ? '[' : ''}`,
      )
        .v(type, value)
        .t(`${port ? `${v6 ? ']' : ''}:${port}` : ''} trace_id=${g.chars(32, HEX)}`);
      return;
    }
    case 'code':
      d.t(`const ${field.replace(/_(\w)/g, (_, c: string) => c.toUpperCase())} = "`)
        .v(type, value)
        .t(`"; // TODO remove before commit`);
      return;
    case 'csv':
      d.t(`name,${field},created\n${g.pick(FIRST)} ${g.pick(LAST)},`)
        .v(type, value)
        .t(`,2026-0${g.int(1, 9)}-1${g.int(0, 9)}\n`);
      return;
    case 'markdown':
      d.t(`| name | ${field} | status |\n|---|---|---|\n| ${g.pick(FIRST)} | `)
        .v(type, value)
        .t(` | ${g.pick(['active', 'pending'])} |`);
      return;
    case 'signature': {
      const label: Record<Exclude<PiiType, 'secret'>, string[]> = {
        email: ['E-Mail', 'Email', 'E', 'Mail'],
        phone: ['T', 'M', 'Tel', 'Mobile', 'Mob.', 'Phone', 'Tél.'],
        credit_card: ['Card'],
        us_ssn: ['SSN'],
        iban: ['IBAN'],
        ip_address: ['VPN'],
      };
      d.t(
        `${g.pick(['Best regards', 'Mit freundlichen Grüßen', 'Cordialement', 'Saludos'])},\n${g.pick(FIRST)} ${g.pick(LAST)}\n${g.pick(['Head of Operations', 'Account Manager', 'CTO'])} | ACME GmbH\n${g.pick(label[type])}: `,
      )
        .v(type, value)
        .t('\n');
      return;
    }
    case 'header':
      if (type === 'email')
        d.t(`From: ${g.pick(FIRST)} ${g.pick(LAST)} <`)
          .v(type, value)
          .t(`>\nSubject: Re: invoice`);
      else if (type === 'ip_address')
        d.t('X-Forwarded-For: ')
          .v(type, value)
          .t(', ')
          .v(type, ipv4(g))
          .t('\nX-Request-Id: ' + uuid(g));
      else d.t(`X-${field.replace(/_/g, '-')}: `).v(type, value);
      return;
    case 'chat': {
      const [before, after] = g.pick(PROSE[type][lang]);
      d.t(`${g.pick(['User', 'user', 'Kunde', 'Client'])}: ${before}`)
        .v(type, value)
        .t(
          `${after}\nAssistant: ${g.pick(['Thanks, noted.', 'Danke, notiert.', 'Merci, c’est noté.', '了解しました。'])}`,
        );
      return;
    }
    default: {
      const [before, after] = g.pick(PROSE[type][lang]);
      d.t(g.pick(PREAMBLE[lang]) + before)
        .v(type, value)
        .t(after);
    }
  }
}

/** A secret in a carrier: .env, YAML, JSON, code, log, shell, prose, connection string. */
function secret(g: Gen, d: Doc, lang: Lang): void {
  const kind = g.int(0, 9);
  if (kind === 0) {
    // AWS credentials the way the CLI and SDKs write them.
    const id = 'AKIA' + g.chars(16, B32);
    const key = g.chars(40, B64);
    const form = g.int(0, 4);
    if (form === 3)
      // The credentials CSV the IAM console downloads.
      d.t('User name,Password,Access key ID,Secret access key,Console login link\ndeploy-bot,,')
        .v('secret', id)
        .t(',')
        .v('secret', key)
        .t(',https://123456789012.signin.aws.amazon.com/console\n');
    else if (form === 4)
      // `aws configure` prompts.
      d.t('$ aws configure\nAWS Access Key ID [None]: ')
        .v('secret', id)
        .t('\nAWS Secret Access Key [None]: ')
        .v('secret', key)
        .t('\nDefault region name [None]: eu-west-1\n');
    else if (form === 0)
      d.t(`[default]\naws_access_key_id = `)
        .v('secret', id)
        .t('\naws_secret_access_key = ')
        .v('secret', key)
        .t(`\nregion = ${g.pick(['us-east-1', 'eu-central-1'])}\n`);
    else if (form === 1)
      d.t('{"AccessKey": {"UserName": "deploy-bot", "AccessKeyId": "')
        .v('secret', id)
        .t('", "Status": "Active", "SecretAccessKey": "')
        .v('secret', key)
        .t(`", "CreateDate": "${timestamp(g)}"}}`);
    else
      d.t('export AWS_ACCESS_KEY_ID=')
        .v('secret', id)
        .t('\nexport AWS_SECRET_ACCESS_KEY=')
        .v('secret', key)
        .t('\naws s3 ls\n');
    return;
  }
  if (kind === 1) {
    // Connection strings with a real-looking password (only the password is the secret).
    const pw = password(g).replace(/[@/:?#%]/g, '');
    const scheme = g.pick(['postgres', 'postgresql', 'mysql', 'mongodb+srv', 'redis', 'amqp', 'mssql']);
    const user = g.pick(['app', 'admin', 'svc_orders', 'root', 'etl']);
    const host = g.pick([
      'db.internal',
      'prod-db-1.cluster-abc.eu-west-1.rds.amazonaws.com',
      'cache:6379',
      'mq.acme-corp.com',
      'localhost:5432',
    ]);
    d.t(g.pick(['DATABASE_URL=', 'url: ', 'conn = "', 'Connecting to ']) + `${scheme}://${user}:`)
      .v('secret', pw)
      .t(`@${host}/${g.pick(['prod', 'orders', 'app', '0'])}`);
    return;
  }
  if (kind === 2) {
    // Key/value passwords in config formats.
    const pw = password(g);
    const form = g.int(0, 4);
    if (form === 0)
      d.t('spring.datasource.password=').v('secret', pw).t('\nspring.datasource.username=app\n');
    else if (form === 1)
      d.t(`database:\n  host: db.internal\n  user: app\n  password: "`).v('secret', pw).t('"\n');
    else if (form === 2)
      d.t('Server=sql01;Database=Orders;User Id=sa;Password=').v('secret', pw.replace(/;/g, '')).t(';');
    else if (form === 3) d.t('{"username": "admin", "password": "').v('secret', pw).t('"}');
    else d.t('DB_PASSWORD=').v('secret', pw).t('\nDB_HOST=localhost\n');
    return;
  }
  if (kind === 3) {
    d.t(`curl -H "Authorization: Bearer `)
      .v('secret', g.chance(0.5) ? jwt(g) : g.chars(40, ALNUM))
      .t(`" https://api.acme-corp.com/v1/orders`);
    return;
  }
  if (kind === 4) {
    const escaped = g.chance(0.5);
    const key = pemKey(g, escaped);
    if (escaped)
      d.t('{"private_key_id": "' + g.chars(40, HEX) + '", "private_key": "')
        .v('secret', key)
        .t('", "client_email": "')
        .v(
          'email',
          `${g.pick(['deploy', 'svc-etl', 'ci-runner'])}@${g.pick(['acme-prod', 'proj-4821'])}.iam.gserviceaccount.com`,
        )
        .t('"}');
    else d.t('Here is the deploy key, can you check why ssh rejects it?\n').v('secret', key).t('\n');
    return;
  }
  const s = secretSample(g);
  const form = g.int(0, 5);
  if (form === 0) d.t(`${s.field.toUpperCase()}=`).v('secret', s.value).t('\n');
  else if (form === 1) d.t(`${s.field}: "`).v('secret', s.value).t('"\n');
  else if (form === 2) d.t(`client = Client(${s.field.toLowerCase()}="`).v('secret', s.value).t('")');
  else if (form === 3) {
    const prose: Record<Lang, [string, string]> = {
      en: [`Here is my ${s.noun}: `, ` — why does the API return 401?`],
      de: [`Das ist mein ${s.noun}: `, `, warum bekomme ich 401?`],
      fr: [`Voici ma clé (${s.noun}) : `, `, pourquoi ai-je une erreur 401 ?`],
      es: [`Esta es mi clave (${s.noun}): `, `, ¿por qué da 401?`],
      pt: [`Minha chave (${s.noun}): `, `, por que dá 401?`],
      ja: [`${s.noun}は `, ` です。401が返ります。`],
      zh: [`这是我的 ${s.noun}：`, ` ，为什么返回401？`],
      ru: [`Вот мой ключ (${s.noun}): `, ` — почему 401?`],
    };
    const [a, b] = prose[lang];
    d.t(a).v('secret', s.value).t(b);
  } else if (form === 4)
    d.t(`${timestamp(g)} DEBUG http request headers={"x-api-key": "`)
      .v('secret', s.value)
      .t('"}');
  else d.t(`{"tool": "configure", "arguments": {"${s.field.toLowerCase()}": "`).v('secret', s.value).t('"}}');
}

// ------------------------------------------------------------------ hard negatives

/** Placeholder values documentation and templates use where a credential goes. */
const PLACEHOLDERS = [
  '<password>',
  '<PASSWORD>',
  '<your-password>',
  '${DB_PASS}',
  '${DB_PASSWORD}',
  '${POSTGRES_PASSWORD:-postgres}',
  '$DB_PASSWORD',
  '%(password)s',
  '{{secret}}',
  '{{ db_password }}',
  '{{ .Values.db.password }}',
  '${{ secrets.DB_PASSWORD }}',
  '%DB_PASSWORD%',
  '{password}',
  'changeme',
  'change_me',
  'CHANGEME',
  '****',
  '********',
  'xxxxx',
  'xxxxxxxxxxxxxxxx',
  'XXXXXXXX',
  'your-api-key-here',
  'YOUR_API_KEY',
  'your_secret_here',
  'REDACTED',
  '[REDACTED]',
  '***REDACTED***',
  'PASSWORD_HERE',
  'insert-password-here',
  '<secret>',
  '...',
  'dummy',
  'placeholder',
];
const KEY_PLACEHOLDERS = [
  'sk-...',
  'sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'sk-proj-XXXXXXXXXXXXXXXXXXXXXXXX',
  'sk-ant-api03-...',
  'AKIAXXXXXXXXXXXXXXXX',
  'ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx',
  'xoxb-your-bot-token',
  'sk_live_****************',
  '<YOUR_OPENAI_API_KEY>',
  'your-api-key-here',
  'os.environ["OPENAI_API_KEY"]',
  'process.env.STRIPE_SECRET_KEY',
];

function hardNegative(g: Gen, d: Doc): void {
  switch (g.int(0, 27)) {
    case 22: {
      const last4 = g.digits(4);
      d.t(
        `Card ending in ${last4}: ${g.pick([`**** **** **** ${last4}`, `•••• •••• •••• ${last4}`, `XXXX-XXXX-XXXX-${last4}`, `************${last4}`])}`,
      );
      return;
    }
    case 23:
      d.t(`SSN on file: ${g.pick(['***-**-', 'XXX-XX-', 'xxx-xx-'])}${g.digits(4)} (masked)`);
      return;
    case 24:
      d.t(
        `We sent a code to ${g.pick(['+49 171 ****', '+1 (415) ***-**', '06 ** ** ** '])}${g.digits(2)} and ${g.pick(FIRST)[0]}***@${g.pick(MAIL_DOMAINS)}`,
      );
      return;
    case 25:
      d.t(
        `Key ${g.pick(['sk-...', 'sk-proj-****', 'AKIA************', 'ghp_…', 'xoxb-…'])}${g.chars(4, ALNUM)} was rotated ${g.int(2, 30)} days ago.`,
      );
      return;
    case 26:
      d.t(
        `Total: ${g.pick([`${g.int(1, 9)}.${g.digits(3)}.${g.digits(3)},${g.digits(2)} €`, `$${g.int(10, 99)},${g.digits(3)},${g.digits(3)}.${g.digits(2)}`, `CHF ${g.int(1, 9)}'${g.digits(3)}'${g.digits(3)}.00`, `${g.int(1, 9)} ${g.digits(3)} ${g.digits(3)},${g.digits(2)} €`])}, rate 0.${g.digits(9)}`,
      );
      return;
    case 27:
      d.t(
        `"dependencies": {"react": "^${g.int(16, 19)}.${g.int(0, 3)}.${g.int(0, 9)} || ~${g.int(15, 17)}.0.${g.int(0, 9)}"}, timeout PT${g.int(1, 9)}H${g.int(1, 59)}M, sleep 0.${g.int(1, 9)}5`,
      );
      return;
    case 0: {
      const scheme = g.pick(['postgres', 'mysql', 'mongodb+srv', 'redis', 'amqp']);
      d.t(
        g.pick(['DATABASE_URL=', 'url: ', 'e.g. ', 'Set the connection string to ']) +
          `${scheme}://${g.pick(['user', 'app', 'admin', '<user>', '${DB_USER}'])}:${g.pick(PLACEHOLDERS)}@${g.pick(['localhost', 'db.internal', '<host>', '${DB_HOST}'])}:${g.pick(['5432', '3306', '27017', '6379'])}/${g.pick(['mydb', 'app', '<db>'])}`,
      );
      return;
    }
    case 1:
    case 2: {
      const ph = g.pick(PLACEHOLDERS);
      d.t(
        g.pick([
          `DB_PASSWORD=${ph}\nDB_USER=app\n`,
          `password: "${ph}"\n`,
          `password: ${ph}\n`,
          `spring.datasource.password=${ph}\n`,
          `Server=sql01;Database=Orders;User Id=sa;Password=${ph};`,
          `{"username": "admin", "password": "${ph}"}`,
          `db.connect(user="app", password="${ph}")`,
          `PGPASSWORD=${ph} psql -h localhost -U app`,
          `requirepass ${ph}`,
          `client_secret = "${ph}"`,
        ]),
      );
      return;
    }
    case 3:
      d.t(
        g.pick([
          'OPENAI_API_KEY=',
          'api_key: ',
          'export ANTHROPIC_API_KEY=',
          'Authorization: Bearer ',
          'aws_access_key_id = ',
          'GITHUB_TOKEN=',
          'stripe.api_key = "',
        ]) + g.pick(KEY_PLACEHOLDERS),
      );
      return;
    case 4:
      d.t(
        `Replace ${g.pick(KEY_PLACEHOLDERS)} with your own key from the dashboard, then run \`npm start\`.`,
      );
      return;
    case 5:
      d.t(
        `${timestamp(g)} INFO login ok user_id=${g.int(1000, 99999999)} password=${g.pick(['****', '[REDACTED]', '********', '<redacted>', 'REDACTED'])} session=${uuid(g)}`,
      );
      return;
    case 6:
      d.t(
        `Upgraded ${g.pick(['node', 'react', 'numpy', 'postgres', 'the SDK'])} from ${g.int(1, 20)}.${g.int(0, 30)}.${g.int(0, 20)} to ${g.int(1, 20)}.${g.int(0, 30)}.${g.int(0, 20)}; build ${g.int(10, 20)}.0.${g.int(10000, 22000)}.${g.int(1, 999)}, Chrome/${g.int(100, 130)}.0.${g.int(1000, 7000)}.${g.int(10, 200)}`,
      );
      return;
    case 7:
      d.t(
        g.pick([
          'Order #',
          'Bestellnummer ',
          'Commande n° ',
          'Pedido ',
          'Invoice INV-',
          'Tracking number ',
          '订单号',
        ]) +
          g.pick([
            `${g.digits(3)}-${g.digits(7)}-${g.digits(7)}`,
            g.digits(10),
            `${g.int(2024, 2026)}-${g.digits(6)}`,
            g.digits(12),
          ]) +
          g.pick([' has shipped.', ' wurde versandt.', ' est en route.', ' ok']),
      );
      return;
    case 8:
      d.t(
        `{"id": "${uuid(g)}", "created": ${1_760_000_000 + g.int(0, 9_999_999)}, "ts_ms": ${1_760_000_000_000 + g.int(0, 999_999_999)}, "at": "${timestamp(g)}"}`,
      );
      return;
    case 9:
      d.t(
        `commit ${g.chars(40, HEX)}\nsha256: ${g.chars(64, HEX)}\nmd5 ${g.chars(32, HEX)}\netag "${g.chars(40, B64)}"`,
      );
      return;
    case 10: {
      const { digits, amexLike } = cardDigits(g, false);
      d.t(`Card number: ${writeCard(g, digits, amexLike)} was declined (invalid number).`);
      return;
    }
    case 11:
      d.t(`IBAN ${writeIban(g, iban(g, false))} is rejected by the bank: wrong check digits.`);
      return;
    case 12: {
      const [, group, serial] = ssn(g);
      d.t(
        `SSN ${g.pick(['000', '666', String(g.int(900, 999))])}-${group}-${serial} is not a valid number (never issued).`,
      );
      return;
    }
    case 13:
      d.t(`Call me at ${invalidPhone(g)} if needed.`);
      return;
    case 14:
      d.t(
        `${timestamp(g)} WARN retry ${g.int(1, 5)}/5 after ${g.int(100, 9000)}ms, ${g.int(1, 900)} rows, elapsed 00:${String(g.int(0, 59)).padStart(2, '0')}:${String(g.int(0, 59)).padStart(2, '0')}, mac ${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}:${g.chars(2, HEX)}`,
      );
      return;
    case 15:
      d.t(
        g.pick([
          `icon@2x.png and logo@3x.webp`,
          `npm install lodash@${g.int(1, 4)}.${g.int(0, 17)}.${g.int(0, 21)}`,
          `git clone git@github.com:acme/${g.pick(['api', 'web'])}.git`,
          `thanks @${g.pick(FIRST)}_${g.int(1, 99)} for the review`,
        ]),
      );
      return;
    case 16:
      d.t(
        `std::vector<int> v; v.push_back(${g.int(1, 9)}); // ${g.int(1, 12)}:${String(g.int(0, 59)).padStart(2, '0')} meeting, OID ${g.pick(['1.3.6.1.4.1.', '2.5.4.'])}${g.int(1, 60000)}`,
      );
      return;
    case 17:
      d.t(
        `{"integrity": "sha512-${g.chars(86, B64)}==", "resolved": "https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz", "checksum": "${g.chars(40, B64)}"}`,
      );
      return;
    case 18:
      d.t(
        `The password must be at least ${g.int(8, 16)} characters long. Your password is required. Password: ${g.pick(['required', 'optional', 'string', 'hidden'])}`,
      );
      return;
    case 19:
      d.t(
        `Price ${g.int(1, 999)}.${g.digits(2)} EUR, qty ${g.int(1, 50)}, SKU ${g.chars(2, UPPER)}-${g.digits(4)}, zip ${g.digits(5)}, batch ${g.digits(8)}`,
      );
      return;
    case 20:
      d.t(`pk_live_${g.chars(24, ALNUM)} is the publishable key; it is meant to be embedded in the page.`);
      return;
    default:
      d.t(
        `const token = process.env.GITHUB_TOKEN ?? ""; // set ${g.pick(['OPENAI_API_KEY', 'AWS_SECRET_ACCESS_KEY', 'DB_PASSWORD'])} in .env`,
      );
  }
}

const ALL_REGIONS = getCountries();

/** A number written like a phone number that is valid in no region (libphonenumber says so). */
function invalidPhone(g: Gen): string {
  for (;;) {
    const intl = g.chance(0.5);
    const s = intl
      ? `+${g.pick(['49', '33', '44', '1', '39', '81', '86'])} ${g.digits(g.int(1, 3))} ${g.digits(g.int(3, 5))}`
      : `0${g.digits(g.int(2, 4))} ${g.digits(g.int(3, 4))} ${g.digits(g.int(2, 4))}`;
    const compact = s.replace(/\s/g, '');
    const validSomewhere = intl
      ? parsePhoneNumberFromString(compact)?.isValid() === true
      : ALL_REGIONS.some((r) => parsePhoneNumberFromString(compact, r)?.isValid() === true);
    if (!validSomewhere) return s;
  }
}

// ------------------------------------------------------------------ corpus

const CARRIERS = [
  'prompt',
  'prompt',
  'chat',
  'json',
  'json-plain',
  'log',
  'code',
  'csv',
  'markdown',
  'signature',
  'header',
];

function personalValue(g: Gen, type: Exclude<PiiType, 'secret'>): string {
  switch (type) {
    case 'email':
      return email(g);
    case 'phone': {
      const region = g.pick(DEFAULT_PHONE_REGIONS);
      return writePhone(g, phoneNumber(g, region), region);
    }
    case 'credit_card': {
      const { digits, amexLike } = cardDigits(g);
      return writeCard(g, digits, amexLike);
    }
    case 'us_ssn': {
      const parts = ssn(g);
      // Written forms: dashes (the card's form), spaces, dots, unformatted.
      return parts.join(g.pick(['-', '-', ' ', '.', '']));
    }
    case 'iban':
      return writeIban(g, iban(g));
    case 'ip_address':
      return g.chance(0.6) ? ipv4(g) : ipv6(g);
  }
}

const PERSONAL: ReadonlyArray<Exclude<PiiType, 'secret'>> = [
  'email',
  'phone',
  'phone',
  'credit_card',
  'us_ssn',
  'iban',
  'ip_address',
];

/** `size` examples (≈ 60 % with PII, 40 % hard negatives), seeded. */
export function generateSpecCorpus(size = 1600, seed = 515_2026): EvalExample[] {
  const g = new Gen(seededRandom(seed));
  const out: EvalExample[] = [];
  for (let i = 0; i < size; i++) {
    const lang = g.pick(LANGS);
    const d = new Doc();
    let kind: string;
    if (g.chance(0.4)) {
      kind = 'negative';
      hardNegative(g, d);
      if (g.chance(0.3)) d.t('\n').t(g.pick(PREAMBLE[lang]));
      if (g.chance(0.3)) {
        d.t('\n');
        hardNegative(g, d);
      }
    } else if (g.chance(0.35)) {
      kind = 'secret';
      if (g.chance(0.3)) d.t(g.pick(PREAMBLE[lang]));
      secret(g, d, lang);
      if (g.chance(0.25)) {
        d.t('\n');
        hardNegative(g, d);
      }
    } else {
      kind = g.pick(CARRIERS);
      const n = g.chance(0.25) ? 2 : 1;
      for (let k = 0; k < n; k++) {
        if (k > 0) d.t(kind === 'log' || kind.startsWith('json') || kind === 'code' ? '\n' : ' ');
        const type = g.pick(PERSONAL);
        personal(g, d, type, personalValue(g, type), kind, lang);
      }
      if (g.chance(0.2)) {
        d.t('\n');
        hardNegative(g, d);
      }
    }
    out.push({ id: `spec-${i}`, kind, lang, text: d.text, findings: d.findings });
  }
  return out;
}

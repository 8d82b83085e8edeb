import { createHmac } from 'node:crypto';
import {
  PII_TYPES,
  scanText,
  type AttributeValue,
  type Attributes,
  type ContentPlace,
  type DecodedSpan,
  type LlmCall,
  type PiiFinding,
  type PiiType,
} from '@llmwatch/core';
import { z } from 'zod';

/**
 * Ingest PII policy, per type: `detect` (report only), `redact` (replace each value by
 * `[REDACTED:<type>]`) or `drop` (remove every content field/attribute holding that type).
 * Applied to the normalized call AND to every string attribute of the span and its events, so
 * dialect-specific copies of the prompt (gen_ai.prompt.0.content, llm.input_messages.*,
 * input.value, …) never reach storage in the raw. Pure: returns new objects, never mutates.
 */
export type PiiAction = 'detect' | 'redact' | 'drop';

export interface PiiPolicy {
  default: PiiAction;
  perType?: Partial<Record<PiiType, PiiAction>>;
  /** Extra secret formats as regular-expression sources (config strings). */
  customSecretPatterns?: string[];
}

/** One stored finding: never the value, only a keyed hash of it (same value → same hash). */
export interface PiiFindingRow {
  type: PiiType;
  place: ContentPlace;
  /** What the policy did with it. */
  action: PiiAction;
  /** Occurrences of this value at this place in the span/call. */
  count: number;
  /** HMAC-SHA256(hashKey, normalized value), hex, first 16 bytes. */
  valueHash: string;
}

const actionSchema = z.enum(['detect', 'redact', 'drop']);

/**
 * `pii:` config section. Safe default: every type is redacted before storage, so a fresh
 * install never writes raw personal data or secrets to disk; choose `detect` per type where the
 * raw content is needed (e.g. `perType: { ip_address: detect }`).
 */
export const piiPolicySchema = z
  .object({
    /** @default 'redact' */
    default: actionSchema.default('redact'),
    perType: z
      .object(
        Object.fromEntries(PII_TYPES.map((t) => [t, actionSchema.optional()])) as Record<
          PiiType,
          z.ZodOptional<typeof actionSchema>
        >,
      )
      .strict()
      .default({}),
    /** Regular-expression sources; each match is a `secret`. */
    customSecretPatterns: z
      .array(
        z.string().refine(
          (s) => {
            try {
              new RegExp(s, 'g');
              return s.length > 0;
            } catch {
              return false;
            }
          },
          { message: 'not a valid regular expression' },
        ),
      )
      .default([]),
  })
  .strict()
  .prefault({});

export type PiiPolicyConfig = z.output<typeof piiPolicySchema>;

const compiled = new Map<string, RegExp[]>();
function customPatterns(policy: PiiPolicy): RegExp[] {
  const sources = policy.customSecretPatterns ?? [];
  if (sources.length === 0) return [];
  const key = sources.join('\u0000');
  let res = compiled.get(key);
  if (!res) {
    res = sources.map((s) => new RegExp(s, 'g'));
    if (compiled.size > 64) compiled.clear();
    compiled.set(key, res);
  }
  return res;
}

function actionOf(policy: PiiPolicy, type: PiiType): PiiAction {
  return policy.perType?.[type] ?? policy.default;
}

/** Same value, same hash: case and separators do not make a different value. */
export function normalizePiiValue(type: PiiType, value: string): string {
  switch (type) {
    case 'email':
    case 'ip_address':
      return value.toLowerCase();
    case 'phone':
      return value.replace(/[^\d+]/g, '');
    case 'credit_card':
    case 'us_ssn':
      return value.replace(/\D/g, '');
    case 'iban':
      return value.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
    default:
      return value;
  }
}

export function piiValueHash(hashKey: string, type: PiiType, value: string): string {
  return createHmac('sha256', hashKey).update(normalizePiiValue(type, value)).digest('hex').slice(0, 32);
}

/** Infrastructure attributes: addresses of our own servers are not leaked personal data. */
const SKIP_ATTRIBUTE =
  /^(?:server\.|network\.|net\.host|net\.sock\.host|host\.|k8s\.|container\.|telemetry\.|otel\.|service\.|process\.|os\.|cloud\.|deployment\.|gen_ai\.response\.id|gen_ai\.request\.model|gen_ai\.response\.model|gen_ai\.system$|gen_ai\.provider\.name)/;

function placeOfKey(key: string): ContentPlace {
  const k = key.toLowerCase();
  if (k.includes('system')) return 'system';
  if (k.includes('tool')) return 'tool';
  if (k.includes('output') || k.includes('completion') || k.includes('response') || k.includes('choice'))
    return 'output';
  return 'input';
}

/** From this length on, a scanned text is remembered by comparison rather than by hash. */
const LONG_TEXT = 256;
/** Long texts compared per lookup at most; more of them (rare) are remembered by hash. */
const MAX_COMPARED = 16;

/**
 * The findings of the texts one span or record has had scanned: its attributes often repeat the
 * call's content. A Map hashes each new text end to end, which in a profile of the ingest
 * pipeline took a third as long as scanning the texts. So the few long ones, contents mostly,
 * are found by `===`, which tells texts of different lengths apart at once and otherwise stops
 * at the first difference.
 */
class ScannedTexts {
  private readonly long: string[] = [];
  private readonly longFindings: PiiFinding[][] = [];
  private hashed: Map<string, PiiFinding[]> | undefined;

  get(text: string): PiiFinding[] | undefined {
    if (text.length >= LONG_TEXT) {
      for (let i = 0; i < this.long.length; i++) if (this.long[i] === text) return this.longFindings[i];
      // Long texts go to the Map only once the list is full: until then it would only be hashing.
      if (this.long.length < MAX_COMPARED) return undefined;
    }
    return this.hashed?.get(text);
  }

  set(text: string, findings: PiiFinding[]): void {
    if (text.length >= LONG_TEXT && this.long.length < MAX_COMPARED) {
      this.long.push(text);
      this.longFindings.push(findings);
    } else (this.hashed ??= new Map()).set(text, findings);
  }
}

interface Tally {
  /** The findings of every source, merged. */
  found: Local;
  scans: ScannedTexts;
  policy: PiiPolicy;
  hashKey: string;
  custom: RegExp[];
}

function newTally(policy: PiiPolicy, hashKey: string): Tally {
  return { found: {}, scans: new ScannedTexts(), policy, hashKey, custom: customPatterns(policy) };
}

/**
 * Counts the findings of one source (the call, or the span) into `local`; the caller merges
 * sources with max(), since the span's attributes and the call are two copies of one content.
 * Returns the policed text, or undefined when the policy drops it.
 */
function scanString(text: string, place: ContentPlace, tally: Tally, local: Local): string | undefined {
  if (typeof text !== 'string' || text.length === 0) return text;
  let findings = tally.scans.get(text);
  if (!findings) {
    findings = scanText(text, tally.custom.length ? { customSecretPatterns: tally.custom } : undefined);
    tally.scans.set(text, findings);
  }
  if (findings.length === 0) return text;
  local.rows ??= new Map();
  let drop = false;
  let out = '';
  let pos = 0;
  for (const f of findings) {
    const action = actionOf(tally.policy, f.type);
    const valueHash = piiValueHash(tally.hashKey, f.type, text.slice(f.start, f.end));
    const key = `${f.type}\u0000${place}\u0000${valueHash}`;
    const row = local.rows.get(key);
    if (row) row.count++;
    else local.rows.set(key, { type: f.type, place, action, count: 1, valueHash });
    if (action === 'drop') drop = true;
    else if (action === 'redact') {
      out += text.slice(pos, f.start) + `[REDACTED:${f.type}]`;
      pos = f.end;
    }
  }
  return drop ? undefined : pos === 0 ? text : out + text.slice(pos);
}

/**
 * Returns the policed value, or undefined when the attribute must be dropped. A value the policy
 * leaves as it is comes back as the same object: most spans have nothing to police, and copying
 * every attribute of every span was most of what this stage allocated. (Object.is, so that a NaN
 * left as it is does not count as a change.)
 */
function policeValue(
  value: AttributeValue,
  place: ContentPlace,
  tally: Tally,
  local: Local,
): AttributeValue | undefined {
  if (typeof value === 'string') return scanString(value, place, tally, local);
  if (Array.isArray(value)) {
    let out: AttributeValue[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as AttributeValue;
      const p = policeValue(v, place, tally, local);
      if (p === undefined) return undefined; // the whole attribute goes
      if (!Object.is(p, v)) out ??= value.slice(0, i);
      out?.push(p);
    }
    return out ?? value;
  }
  if (value !== null && typeof value === 'object') {
    let out: { [key: string]: AttributeValue } | undefined;
    for (const k in value) {
      const v = value[k] as AttributeValue;
      const p = policeValue(v, place, tally, local);
      if (p === undefined) return undefined;
      if (!Object.is(p, v)) out ??= copyBefore(value, k);
      if (out) out[k] = p;
    }
    return out ?? value;
  }
  return value;
}

/**
 * The entries of `source` before `key`, in a new null-prototype object (like decode's: a
 * `__proto__` key is data, not a prototype to set). Decoded objects have no prototype, so
 * for…in visits only their own keys, in insertion order.
 */
function copyBefore<T>(source: { [key: string]: T }, key: string): { [key: string]: T } {
  const out = Object.create(null) as { [key: string]: T };
  for (const k in source) {
    if (k === key) break;
    out[k] = source[k] as T;
  }
  return out;
}

/** `attrs` policed: the same object when nothing in it changed. */
function policeAttributes(
  attrs: Attributes,
  tally: Tally,
  local: Local,
  placeHint?: ContentPlace,
): Attributes {
  let out: Attributes | undefined;
  for (const key in attrs) {
    const value = attrs[key] as AttributeValue;
    const p =
      typeof value === 'number' || typeof value === 'boolean' || value === null || SKIP_ATTRIBUTE.test(key)
        ? value
        : policeValue(value, placeHint ?? placeOfKey(key), tally, local);
    if (!Object.is(p, value)) out ??= copyBefore(attrs, key);
    if (out && p !== undefined) out[key] = p;
  }
  return out ?? attrs;
}

/** The findings of one source, made on the first one: most sources have none. */
interface Local {
  rows?: Map<string, PiiFindingRow>;
}

function merge(tally: Tally, local: Local): void {
  if (!local.rows) return;
  const into = (tally.found.rows ??= new Map());
  for (const [key, row] of local.rows) {
    const have = into.get(key);
    if (!have) into.set(key, { ...row });
    else have.count = Math.max(have.count, row.count);
  }
}

function findingsOf(tally: Tally): PiiFindingRow[] {
  return tally.found.rows ? [...tally.found.rows.values()] : [];
}

/** A call's tags policed: a dropped tag goes; the same object when nothing changed. */
function policeTags(tags: Record<string, string>, tally: Tally, local: Local): Record<string, string> {
  let out: Record<string, string> | undefined;
  for (const key in tags) {
    const value = tags[key] as string;
    const p = scanString(value, 'input', tally, local);
    if (p !== value) out ??= copyBefore(tags, key);
    if (out && p !== undefined) out[key] = p;
  }
  return out ?? tags;
}

/** Events or links with their attributes policed: the same array when nothing changed. */
function policeEach<T extends { attributes: Attributes }>(items: T[], police: (item: T) => Attributes): T[] {
  let out: T[] | undefined;
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as T;
    const attributes = police(item);
    if (attributes !== item.attributes) out ??= items.slice(0, i);
    out?.push(attributes === item.attributes ? item : { ...item, attributes });
  }
  return out ?? items;
}

export function applyPiiPolicy<C extends LlmCall | null>(
  call: C,
  span: DecodedSpan,
  policy: PiiPolicy,
  hashKey: string,
): { call: C; span: DecodedSpan; findings: PiiFindingRow[] } {
  const tally = newTally(policy, hashKey);

  // Nothing is copied unless a finding changes it: the call and span come back as they are.
  let outCall = call;
  if (call) {
    const local: Local = {};
    const field = (text: string, place: ContentPlace) => scanString(text, place, tally, local) ?? '';
    const inputContent = field(call.inputContent, 'input');
    const outputContent = field(call.outputContent, 'output');
    const systemContent = field(call.systemContent, 'system');
    const userId = field(call.userId, 'input');
    const sessionId = field(call.sessionId, 'input');
    const conversationId = field(call.conversationId, 'input');
    const tags = policeTags(call.tags, tally, local);
    if (local.rows) {
      outCall = {
        ...call,
        inputContent,
        outputContent,
        systemContent,
        userId,
        sessionId,
        conversationId,
        tags,
      } as C;
      merge(tally, local);
    }
  }

  const local: Local = {};
  const statusMessage = scanString(span.statusMessage, 'output', tally, local) ?? '';
  // Span names can carry values too ("GET /users/jane@example.com"); a dropped name keeps a stub.
  const name = scanString(span.name, 'input', tally, local) ?? '[DROPPED]';
  const attributes = policeAttributes(span.attributes, tally, local);
  const events = policeEach(span.events, (e) =>
    policeAttributes(e.attributes, tally, local, placeOfEventName(e.name)),
  );
  const links = policeEach(span.links, (l) => policeAttributes(l.attributes, tally, local));
  const outSpan = local.rows ? { ...span, name, attributes, statusMessage, events, links } : span;
  merge(tally, local);

  return { call: outCall, span: outSpan, findings: findingsOf(tally) };
}

/** gen_ai.user.message / gen_ai.choice / gen_ai.content.completion … carry the place in the name. */
function placeOfEventName(eventName: string): ContentPlace | undefined {
  const name = eventName.toLowerCase();
  if (name.includes('system')) return 'system';
  if (name.includes('tool')) return 'tool';
  if (name.includes('choice') || name.includes('completion') || name.includes('assistant')) return 'output';
  if (name.includes('user') || name.includes('prompt')) return 'input';
  return undefined;
}

/**
 * A log record under the same policy as a span: its body and every string attribute (GenAI
 * events carry prompts and completions there). A dropped body becomes null, so the raw value is
 * stored nowhere, otel_logs included.
 */
export function applyPiiPolicyToRecord(
  record: { eventName: string; body: AttributeValue; attributes: Attributes },
  policy: PiiPolicy,
  hashKey: string,
): { body: AttributeValue; attributes: Attributes; findings: PiiFindingRow[] } {
  const tally = newTally(policy, hashKey);
  const local: Local = {};
  const hint = placeOfEventName(record.eventName);
  const body = policeValue(record.body, hint ?? 'input', tally, local);
  const attributes = policeAttributes(record.attributes, tally, local, hint);
  merge(tally, local);
  return { body: body === undefined ? null : body, attributes, findings: findingsOf(tally) };
}

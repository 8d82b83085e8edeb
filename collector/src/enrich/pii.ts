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
  private readonly hashed = new Map<string, PiiFinding[]>();

  get(text: string): PiiFinding[] | undefined {
    if (text.length >= LONG_TEXT) {
      for (let i = 0; i < this.long.length; i++) if (this.long[i] === text) return this.longFindings[i];
      // Long texts go to the Map only once the list is full: until then it would only be hashing.
      if (this.long.length < MAX_COMPARED) return undefined;
    }
    return this.hashed.get(text);
  }

  set(text: string, findings: PiiFinding[]): void {
    if (text.length >= LONG_TEXT && this.long.length < MAX_COMPARED) {
      this.long.push(text);
      this.longFindings.push(findings);
    } else this.hashed.set(text, findings);
  }
}

interface Tally {
  rows: Map<string, PiiFindingRow>;
  scans: ScannedTexts;
  policy: PiiPolicy;
  hashKey: string;
  custom: RegExp[];
}

function newTally(policy: PiiPolicy, hashKey: string): Tally {
  return { rows: new Map(), scans: new ScannedTexts(), policy, hashKey, custom: customPatterns(policy) };
}

/**
 * Counts the findings of one source (the call, or the span) into `local`; the caller merges
 * sources with max(), since the span's attributes and the call are two copies of one content.
 */
function scanString(
  text: string,
  place: ContentPlace,
  tally: Tally,
  local: Map<string, PiiFindingRow>,
): { text: string; drop: boolean } {
  if (typeof text !== 'string' || text.length === 0) return { text, drop: false };
  let findings = tally.scans.get(text);
  if (!findings) {
    findings = scanText(text, tally.custom.length ? { customSecretPatterns: tally.custom } : undefined);
    tally.scans.set(text, findings);
  }
  if (findings.length === 0) return { text, drop: false };
  let drop = false;
  let out = '';
  let pos = 0;
  for (const f of findings) {
    const action = actionOf(tally.policy, f.type);
    const valueHash = piiValueHash(tally.hashKey, f.type, text.slice(f.start, f.end));
    const key = `${f.type}\u0000${place}\u0000${valueHash}`;
    const row = local.get(key);
    if (row) row.count++;
    else local.set(key, { type: f.type, place, action, count: 1, valueHash });
    if (action === 'drop') drop = true;
    else if (action === 'redact') {
      out += text.slice(pos, f.start) + `[REDACTED:${f.type}]`;
      pos = f.end;
    }
  }
  return { text: drop ? '' : pos === 0 ? text : out + text.slice(pos), drop };
}

/** Returns the policed value, or undefined when the attribute must be dropped. */
function policeValue(
  value: AttributeValue,
  place: ContentPlace,
  tally: Tally,
  local: Map<string, PiiFindingRow>,
): AttributeValue | undefined {
  if (typeof value === 'string') {
    const r = scanString(value, place, tally, local);
    return r.drop ? undefined : r.text;
  }
  if (Array.isArray(value)) {
    const out: AttributeValue[] = [];
    for (const v of value) {
      const p = policeValue(v, place, tally, local);
      if (p === undefined) return undefined; // the whole attribute goes
      out.push(p);
    }
    return out;
  }
  if (value !== null && typeof value === 'object') {
    const out = Object.create(null) as { [key: string]: AttributeValue };
    for (const [k, v] of Object.entries(value)) {
      const p = policeValue(v, place, tally, local);
      if (p === undefined) return undefined;
      out[k] = p;
    }
    return out;
  }
  return value;
}

function policeAttributes(
  attrs: Attributes,
  tally: Tally,
  local: Map<string, PiiFindingRow>,
  placeHint?: ContentPlace,
): Attributes {
  // Null-prototype, like decode's: a `__proto__` key is data, not a prototype to set.
  const out = Object.create(null) as Attributes;
  // for…in, not Object.entries: no [key, value] array per attribute. Decoded attributes have no
  // prototype, so only their own keys are visited.
  for (const key in attrs) {
    const value = attrs[key] as AttributeValue;
    if (
      typeof value === 'number' ||
      typeof value === 'boolean' ||
      value === null ||
      SKIP_ATTRIBUTE.test(key)
    ) {
      out[key] = value;
      continue;
    }
    const p = policeValue(value, placeHint ?? placeOfKey(key), tally, local);
    if (p !== undefined) out[key] = p;
  }
  return out;
}

function merge(into: Map<string, PiiFindingRow>, from: Map<string, PiiFindingRow>): void {
  for (const [key, row] of from) {
    const have = into.get(key);
    if (!have) into.set(key, { ...row });
    else have.count = Math.max(have.count, row.count);
  }
}

export function applyPiiPolicy<C extends LlmCall | null>(
  call: C,
  span: DecodedSpan,
  policy: PiiPolicy,
  hashKey: string,
): { call: C; span: DecodedSpan; findings: PiiFindingRow[] } {
  const tally = newTally(policy, hashKey);

  let outCall = call;
  if (call) {
    const local = new Map<string, PiiFindingRow>();
    const field = (text: string, place: ContentPlace) => scanString(text, place, tally, local).text;
    const tags = Object.create(null) as Record<string, string>;
    for (const [k, v] of Object.entries(call.tags)) {
      const policed = field(v, 'input');
      if (policed !== '' || v === '') tags[k] = policed;
    }
    outCall = {
      ...call,
      inputContent: field(call.inputContent, 'input'),
      outputContent: field(call.outputContent, 'output'),
      systemContent: field(call.systemContent, 'system'),
      userId: field(call.userId, 'input'),
      sessionId: field(call.sessionId, 'input'),
      conversationId: field(call.conversationId, 'input'),
      tags,
    } as C;
    merge(tally.rows, local);
  }

  const local = new Map<string, PiiFindingRow>();
  const statusMessage = scanString(span.statusMessage, 'output', tally, local).text;
  // Span names can carry values too ("GET /users/jane@example.com"); a dropped name keeps a stub.
  const name = scanString(span.name, 'input', tally, local);
  const outSpan: DecodedSpan = {
    ...span,
    name: name.drop ? '[DROPPED]' : name.text,
    attributes: policeAttributes(span.attributes, tally, local),
    statusMessage,
    events: span.events.map((e) => ({
      ...e,
      attributes: policeAttributes(e.attributes, tally, local, placeOfEventName(e.name)),
    })),
    links: span.links.map((l) => ({ ...l, attributes: policeAttributes(l.attributes, tally, local) })),
  };
  merge(tally.rows, local);

  return { call: outCall, span: outSpan, findings: [...tally.rows.values()] };
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
  const local = new Map<string, PiiFindingRow>();
  const hint = placeOfEventName(record.eventName);
  const body = policeValue(record.body, hint ?? 'input', tally, local);
  const attributes = policeAttributes(record.attributes, tally, local, hint);
  merge(tally.rows, local);
  return { body: body === undefined ? null : body, attributes, findings: [...tally.rows.values()] };
}

/**
 * Model-id matching for the price table. Providers, hosts and SDKs spell one model many ways
 * (`gpt-4o-2024-08-06`, `openai/gpt-4o`, `models/gemini-2.5-pro`,
 * `us.anthropic.claude-3-5-sonnet-20240620-v1:0`, `claude-3-5-sonnet-v2@20241022`), so ids are
 * canonicalized first, then matched: exact id, then the longest table id that is a prefix of the
 * id AND is followed only by snapshot markers (dates, `-latest`, `-preview`, `-001`, `-v2`).
 * Anything else after the prefix (`-mini`, `-audio`, `-lite`, `-5`) means another model, so it is
 * left unknown rather than priced as its neighbour.
 */

/** What may follow a table id and still be the same model at the same price. */
const SNAPSHOT_SUFFIX =
  /^(?:-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest|preview(?:-\d{2}-\d{2})?|exp(?:-\d{2}-\d{2}|-\d{4})?|v\d+))+$/;

/** Bedrock ids: optional cross-region inference prefix, then the model vendor. */
const BEDROCK_PREFIX =
  /^(?:(?:us|eu|apac|global|us-gov|jp|au|ca)\.)?(?:anthropic|meta|mistral|amazon|cohere|ai21|deepseek|openai|qwen|writer)\./;

export function canonicalModelId(raw: string): string {
  let id = raw.trim().toLowerCase();
  const slash = id.lastIndexOf('/');
  if (slash >= 0) id = id.slice(slash + 1);
  const colon = id.indexOf(':');
  if (colon >= 0) id = id.slice(0, colon);
  id = id.replace(BEDROCK_PREFIX, '');
  // Vertex AI writes snapshots as `model@date`.
  id = id.replace('@', '-');
  if (id.startsWith('meta-llama')) id = id.slice(5);
  // Bedrock and some hosts write `llama3-1-70b`; the table says `llama-3.1-70b`.
  if (id.startsWith('llama') && id.charCodeAt(5) >= 48 && id.charCodeAt(5) <= 57) id = `llama-${id.slice(5)}`;
  // `claude-sonnet-4.5` and `claude-sonnet-4-5` are both in the wild; dots never separate models.
  return id.replaceAll('.', '-');
}

/** Compiled lookup over a set of model ids. */
export class ModelMatcher<T> {
  private readonly byId = new Map<string, T>();
  private readonly cache = new Map<string, T | null>();

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [id, value] of entries) {
      const key = canonicalModelId(id);
      // First one wins: the table lists the specific entry before any alias that could collide.
      if (!this.byId.has(key)) this.byId.set(key, value);
    }
  }

  get size(): number {
    return this.byId.size;
  }

  match(model: string): T | null {
    const cached = this.cache.get(model);
    if (cached !== undefined) return cached;
    const found = this.resolve(canonicalModelId(model));
    // Bounded: a flood of distinct garbage model names must not grow memory without limit.
    if (this.cache.size >= 4096) this.cache.clear();
    this.cache.set(model, found);
    return found;
  }

  private resolve(id: string): T | null {
    if (id === '') return null;
    const exact = this.byId.get(id);
    if (exact !== undefined) return exact;
    // Longest prefix first: walk the '-' boundaries from the right.
    for (let p = id.lastIndexOf('-'); p > 0; p = id.lastIndexOf('-', p - 1)) {
      const hit = this.byId.get(id.slice(0, p));
      if (hit !== undefined) return SNAPSHOT_SUFFIX.test(id.slice(p)) ? hit : null;
    }
    return null;
  }
}

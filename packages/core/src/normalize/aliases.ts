import type { AttributeValue } from '../span.js';

/**
 * An installation's own attribute names for identity fields (`attributes:` in
 * llmwatch.config.yaml), read before the built-in dialect tables: an app that writes
 * `app.prompt.rev` says that this is its prompt version. Each list is tried in order; the first
 * attribute with a value wins. A `tags` entry ending in `.*` takes every attribute under that
 * prefix, keyed by the rest of its name; any other entry is a tag keyed by its full name.
 */
export interface AttributeAliases {
  promptName?: readonly string[];
  promptVersion?: readonly string[];
  userId?: readonly string[];
  sessionId?: readonly string[];
  tags?: readonly string[];
}

export type IdentityField = 'promptName' | 'promptVersion' | 'userId' | 'sessionId';

/** The first non-empty value of the configured names for one field, as text. */
export function aliasedValue(
  attrs: Readonly<Record<string, AttributeValue>>,
  names: readonly string[] | undefined,
): string | undefined {
  if (!names) return undefined;
  for (const name of names) {
    const v = attrs[name];
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  }
  return undefined;
}

/** Tags from the configured names and `prefix.*` patterns. */
export function aliasedTags(
  attrs: Readonly<Record<string, AttributeValue>>,
  patterns: readonly string[] | undefined,
  add: (key: string, value: string) => void,
): void {
  if (!patterns) return;
  for (const pattern of patterns) {
    if (pattern.endsWith('.*')) {
      const prefix = pattern.slice(0, -1);
      for (const key in attrs) {
        if (!key.startsWith(prefix) || key.length === prefix.length) continue;
        const v = aliasedValue(attrs, [key]);
        if (v !== undefined) add(key.slice(prefix.length), v);
      }
    } else {
      const v = aliasedValue(attrs, [pattern]);
      if (v !== undefined) add(pattern, v);
    }
  }
}

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyRing } from './auth.js';

const sha = (s: string): string => createHash('sha256').update(s).digest('hex');

describe('KeyRing', () => {
  it('maps plain and sha256: keys to their project and nothing else', () => {
    const ring = new KeyRing([
      { id: 'alpha', keys: ['alpha-key-1234'] },
      { id: 'beta', keys: [`sha256:${sha('beta-key-5678')}`] },
    ]);
    expect(ring.open).toBe(false);
    expect(ring.lookup('alpha-key-1234')).toBe('alpha');
    expect(ring.lookup('beta-key-5678')).toBe('beta');
    // The digest itself is not a key.
    expect(ring.lookup(`sha256:${sha('beta-key-5678')}`)).toBeUndefined();
    expect(ring.lookup('alpha-key-123')).toBeUndefined();
  });

  it('is open (one default project) without keys, and rejects malformed or duplicate keys', () => {
    expect(new KeyRing([{ id: 'p', keys: [] }]).open).toBe(true);
    expect(() => new KeyRing([{ id: 'p', keys: ['sha256:xyz'] }])).toThrow(/64 hex/);
    expect(
      () =>
        new KeyRing([
          { id: 'a', keys: ['same-key-0000'] },
          { id: 'b', keys: [`sha256:${sha('same-key-0000')}`] },
        ]),
    ).toThrow(/configured twice/);
  });
});

import { describe, expect, it } from 'vitest';
import { parseConfig } from './index.js';

describe('config', () => {
  it('gives every field a safe default', () => {
    const config = parseConfig(undefined);
    expect(config.server).toMatchObject({ host: '127.0.0.1', port: 4318 });
    expect(config.storage.dataDir).toBe('./.llmwatch/data');
    expect(config.storage.url).toBeUndefined();
    expect(config.projects).toEqual([]);
  });

  it('names the path of a bad field', () => {
    expect(() => parseConfig({ server: { port: 'x' } }, 'cfg.yaml')).toThrow(/^cfg\.yaml: server\.port: /);
    expect(() => parseConfig({ projects: [{ id: 'bad id!' }] })).toThrow(/projects\.0\.id/);
    expect(() => parseConfig({ storage: { nope: 1 } })).toThrow(/storage/);
  });
});

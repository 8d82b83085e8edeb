/**
 * The collector's layers, lowest first. A file may import from its own layer and the layers
 * before it, never from a later one: the data path reads bottom-up (model → store → ingest →
 * detect → alert → http → app) and a lower layer receives what it needs (a project id, a narrow
 * interface) instead of reaching up for it. Checked by `pnpm lint:layers` (dependency-cruiser,
 * config in /.dependency-cruiser.mjs), part of `pnpm test`.
 *
 * To add a folder: put `collector/src/<folder>` in the layer it belongs to. Analyses that read
 * stored data (reports, evaluations, comparisons, datasets) are detect-level; anything that
 * composes several layers (CLI, demo, config composition, the package entry) is app-level.
 * A folder that is in no layer fails the check, so nothing lands outside the map by accident.
 */
export const LAYERS = [
  {
    name: 'model',
    why: 'shared types and primitives every layer may use (with @llmwatch/core)',
    paths: ['model/', 'errors.ts', 'logging.ts'],
  },
  { name: 'store', why: 'ClickHouse access, schema and migrations', paths: ['storage/'] },
  { name: 'ingest', why: 'OTLP in, normalized and enriched rows out', paths: ['ingest/', 'enrich/'] },
  {
    name: 'detect',
    why: 'analyses over stored data',
    paths: ['detect/', 'report/build.ts', 'eval/', 'compare/', 'datasets/', 'finetune/', 'rag/'],
  },
  { name: 'alert', why: 'alert state, delivery', paths: ['alert/'] },
  { name: 'http', why: 'the HTTP API and the server around it', paths: ['api/', 'server/'] },
  {
    name: 'app',
    why: 'wiring: CLI, demo, terminal report, config composition, package entry',
    paths: ['cli/', 'demo/', 'report/render.ts', 'config/', 'console/', 'index.ts'],
  },
];

/**
 * The config schema composes every layer's section, so it sits with the wiring; a lower layer may
 * still name the composed type (`import type { LlmwatchConfig }`), which costs no runtime edge.
 */
export const TYPE_ONLY_FROM_ANYWHERE = ['config/'];

export const SRC = '^collector/src/';
export const escape = (text) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
export const pathPattern = (paths) => `${SRC}(${paths.map(escape).join('|')})`;

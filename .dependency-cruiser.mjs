/**
 * `pnpm lint:layers`: import direction between the collector's layers (collector/layers.mjs holds
 * the map and says how to extend it) and no import cycles anywhere in the collector.
 */
import { LAYERS, TYPE_ONLY_FROM_ANYWHERE, pathPattern, SRC, escape } from './collector/layers.mjs';

const upward = LAYERS.flatMap((layer, i) => {
  const later = LAYERS.slice(i + 1);
  if (later.length === 0) return [];
  const laterPaths = later.flatMap((l) => l.paths);
  return [
    {
      name: `layer-${layer.name}`,
      comment: `${layer.name} (${layer.why}) may not import ${later.map((l) => l.name).join(', ')}: see collector/layers.mjs`,
      severity: 'error',
      from: { path: pathPattern(layer.paths), pathNot: '\\.test\\.ts$' },
      to: {
        path: pathPattern(laterPaths),
        // A type-only import of the composed config is allowed from anywhere (see layers.mjs).
        ...(TYPE_ONLY_FROM_ANYWHERE.length
          ? {
              pathNot: pathPattern(TYPE_ONLY_FROM_ANYWHERE.filter((p) => laterPaths.includes(p))),
            }
          : {}),
      },
    },
    ...(TYPE_ONLY_FROM_ANYWHERE.some((p) => laterPaths.includes(p))
      ? [
          {
            name: `layer-${layer.name}-config-values`,
            comment: `${layer.name} may import the composed config's types only (import type), not its values`,
            severity: 'error',
            from: { path: pathPattern(layer.paths), pathNot: '\\.test\\.ts$' },
            to: {
              path: pathPattern(TYPE_ONLY_FROM_ANYWHERE.filter((p) => laterPaths.includes(p))),
              dependencyTypesNot: ['type-only'],
            },
          },
        ]
      : []),
  ];
});

const mapped = LAYERS.flatMap((l) => l.paths);

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    ...upward,
    {
      name: 'layer-unmapped',
      comment: 'every collector/src folder belongs to a layer: add it to collector/layers.mjs',
      severity: 'error',
      from: { path: SRC, pathNot: [pathPattern(mapped), '\\.test\\.ts$'] },
      to: {},
    },
    {
      name: 'app-cli-on-top',
      comment: 'the CLI wires everything; nothing imports it (the demo and tests use the modules it uses)',
      severity: 'error',
      from: { path: SRC, pathNot: [`${SRC}cli/`, '\\.test\\.ts$'] },
      to: { path: `${SRC}cli/` },
    },
    {
      name: 'no-cycles',
      comment: 'an import cycle makes the order of initialization and of layers ambiguous',
      severity: 'error',
      from: { path: SRC, pathNot: '\\.test\\.ts$' },
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'no-tests-in-production',
      comment: 'production code never imports test files or test helpers',
      severity: 'error',
      from: { path: SRC, pathNot: '\\.test\\.ts$' },
      to: { path: ['\\.test\\.ts$', `^collector/test/`] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: ['(^|/)dist/', escape('collector/src/') + '.*\\.d\\.ts$'] },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: {
      conditionNames: ['@llmwatch/source', 'import', 'types', 'default'],
      extensions: ['.ts', '.js', '.json'],
    },
    moduleSystems: ['es6'],
  },
};

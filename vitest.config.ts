import { defineConfig } from 'vitest/config';

/**
 * The OpenAI wrapper must work with every `openai` major the issue names, not only the one the
 * workspace installs: its suite runs again with `openai` resolved to the older majors, installed
 * side by side as npm aliases (`openai-v4`, `openai-v5`) in packages/sdk.
 */
const olderOpenAIMajors = [4, 5].map((major) => ({
  extends: true as const,
  resolve: { alias: [{ find: /^openai(?=\/|$)/, replacement: `openai-v${major}` }] },
  test: { name: `sdk with openai v${major}`, include: ['packages/sdk/test/openai.test.ts'] },
}));

export default defineConfig({
  resolve: { conditions: ['@llmwatch/source'] },
  ssr: { resolve: { conditions: ['@llmwatch/source'] } },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    exclude: ['**/node_modules/**', '**/dist/**'],
    projects: [
      {
        extends: true,
        test: {
          name: 'llmwatch',
          include: [
            'packages/*/src/**/*.test.ts',
            'packages/*/test/**/*.test.ts',
            'collector/src/**/*.test.ts',
            'collector/test/**/*.test.ts',
            'test/**/*.test.ts',
          ],
        },
      },
      ...olderOpenAIMajors,
    ],
  },
});

import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@llmwatch/source'] },
  ssr: { resolve: { conditions: ['@llmwatch/source'] } },
  test: {
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    include: [
      'packages/*/src/**/*.test.ts',
      'packages/*/test/**/*.test.ts',
      'collector/src/**/*.test.ts',
      'collector/test/**/*.test.ts',
      'test/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**', '**/dist/**'],
  },
});

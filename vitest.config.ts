import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['agent/**/*.test.ts', 'collector/**/*.test.ts', 'cli/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Live parity and namespace tests share the host's socket tables; run files one at a time.
    fileParallelism: false,
    // The JSON report feeds .ci/run's one-line summary.
    reporters: ['default', ['json', { outputFile: 'test/artifacts/vitest.json' }]],
  },
});

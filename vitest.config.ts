import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Two cores: keep parallelism modest so service-backed tests do not starve each other.
    maxWorkers: 2,
    reporters: process.env.CI ? ['default'] : ['default'],
  },
});

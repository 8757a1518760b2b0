import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Real engines share two cores: run files one after another so timings and thread counts hold.
    fileParallelism: false,
    globalSetup: ['test/global-setup.ts'],
  },
});

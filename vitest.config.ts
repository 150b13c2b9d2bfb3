import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['contract/**/*.test.ts', 'src/**/*.test.ts', 'fakes/**/*.test.ts', 'harness/**/*.test.ts', 'tools/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    // Two cores: keep parallelism modest so timing-sensitive integration tests are not starved.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Builds llama-server once per machine (about 10 minutes) before the tests that run it; instant when cached.
    globalSetup: ['test/setup/llama.ts'],
    // The engine `npm run containers:prepare` started, if any, for every test that talks to Docker.
    setupFiles: ['test/setup/engine.ts'],
  },
});

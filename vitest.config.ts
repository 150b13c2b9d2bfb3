import { defineConfig } from 'vitest/config';

const ALL = ['contract/**/*.test.ts', 'src/**/*.test.ts', 'fakes/**/*.test.ts', 'harness/**/*.test.ts', 'tools/**/*.test.ts', 'test/**/*.test.ts'];
/**
 * The scenario library end to end on virtual time: verdicts and bytes that do not depend on the machine, so its
 * files run side by side.
 */
const REHEARSALS = ['test/e2e/**/*.test.ts'];
/** End to end on wall time (real time, the runner's command line, your own agent module): one at a time, last. */
const WALL = ['test/e2e/**/*.wall.test.ts'];
/** In-process rehearsals at high speed (the fault matrix runs five at once at speed 25, the soak a thousand turns). */
const TIMED = ['test/matrix/**/*.test.ts', 'test/soak/**/*.test.ts', 'src/rehearsal/rehearsal.test.ts', 'harness/play/rehearse.test.ts'];

export default defineConfig({
  test: {
    exclude: ['**/node_modules/**'],
    // Two cores: keep parallelism modest so timing-sensitive integration tests are not starved.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Builds llama-server once per machine (about 10 minutes) before the tests that run it, instant when cached;
    // installs redis-server from apt when missing (Debian, root).
    globalSetup: ['test/setup/llama.ts', 'test/setup/redis.ts'],
    // The engine `npm run containers:prepare` started, if any, for every test that talks to Docker.
    setupFiles: ['test/setup/engine.ts'],
    // `npm test` runs these one after the other (package.json): a rehearsal's time is wall time times the
    // speed, so the timed ones must not share two cores with package installs, image builds and fuzzing, nor
    // the fault matrix's five concurrent rehearsals with the library's. `vitest run <file>` still runs any file.
    projects: [
      { extends: true, test: { name: 'unit', include: ALL, exclude: ['**/node_modules/**', ...TIMED, ...REHEARSALS] } },
      { extends: true, test: { name: 'timed', include: TIMED } },
      { extends: true, test: { name: 'rehearsals', include: REHEARSALS, exclude: ['**/node_modules/**', ...WALL] } },
      { extends: true, test: { name: 'wall', include: WALL } },
    ],
  },
});

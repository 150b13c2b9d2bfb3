/**
 * Whether tests that need a real engine run here, from E2E_STACK: `containers` and `both` require one (a run
 * that asked for containers fails rather than skips), `auto` runs them when the container stack is ready,
 * `processes` skips them. The reason is printed once and goes into the skipped suite's name.
 */
import { containerReadiness } from '../../harness/stack/choose.js';

export interface EngineTests {
  run: boolean;
  why: string;
}

let decided: Promise<EngineTests> | undefined;

export function engineTests(choice = process.env.E2E_STACK ?? 'auto'): Promise<EngineTests> {
  decided ??= (async () => {
    if (choice === 'processes') return { run: false, why: 'E2E_STACK=processes' };
    const readiness = await containerReadiness();
    if (readiness.ready) return { run: true, why: readiness.found };
    if (choice === 'containers' || choice === 'both') {
      throw new Error(`E2E_STACK=${choice}, but the container stack cannot run here: ${readiness.problem}. Run \`npm run containers:prepare\` first.`);
    }
    return { run: false, why: readiness.problem };
  })();
  return decided;
}

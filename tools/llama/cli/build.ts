/**
 * `npm run llama:build`: builds llama-server into the cache once (about 10 minutes) and writes the tiny model;
 * instant when both are there. Ctrl-C stops the compilers and removes the half-done build.
 */
import { ensureLlama } from '../ensure.js';
import { printProgress } from './print-progress.js';

const controller = new AbortController();
// `on`, not `once`: Ctrl-C can arrive twice (from the terminal and relayed by tsx), and while this handler is
// registered the child tracker leaves the process alive so the scratch folder is removed before exiting.
const interrupt = (signal: NodeJS.Signals): void => {
  if (controller.signal.aborted) return;
  console.error(`[llama] ${signal}: stopping the build`);
  controller.abort(new Error(`interrupted by ${signal}`));
};
process.on('SIGINT', interrupt);
process.on('SIGTERM', interrupt);

try {
  const { serverBin, modelPath } = await ensureLlama({ onProgress: printProgress, signal: controller.signal });
  console.log(`[llama] llama-server: ${serverBin}`);
  console.log(`[llama] tiny model:   ${modelPath}`);
} catch (error) {
  console.error(`[llama] ${controller.signal.aborted ? 'build stopped' : (error as Error).message}`);
  process.exitCode = controller.signal.aborted ? 130 : 1;
}

/**
 * Vitest global setup: makes sure llama-server is built and the tiny model written before any test runs, so
 * a fresh machine builds llama-server once (about 10 minutes, progress printed) and every later run finds it
 * in the cache at once. Tests then call ensureLlama() themselves, which returns immediately.
 */
import { ensureLlama } from '../../tools/llama/ensure.js';
import { printProgress } from '../../tools/llama/cli/print-progress.js';

export default async function setup(): Promise<void> {
  const started = Date.now();
  const { serverBin } = await ensureLlama({ onProgress: printProgress });
  const seconds = (Date.now() - started) / 1000;
  if (seconds > 5) console.log(`[llama] ready after ${seconds.toFixed(0)} s: ${serverBin}`);
}

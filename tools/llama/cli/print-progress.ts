/** Prints llama setup progress as one line per step, prefixed so it stands out in test output. */
import type { LlamaProgress } from '../build/progress.js';

export function printProgress(progress: LlamaProgress): void {
  console.log(`[llama] ${progress.message}`);
}

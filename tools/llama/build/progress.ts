/**
 * Turns cmake's build output ("[ 42%] Building CXX object ...") into a few progress lines: one when the
 * percentage has moved and at least `intervalMs` passed since the last one, and always the first and 100%.
 */

/** One step of setting up the local llama.cpp (what ensureLlama and llama:build report). */
export interface LlamaProgress {
  phase: 'check' | 'source' | 'configure' | 'compile' | 'install' | 'model' | 'done' | 'wait';
  /** 0-100 while compiling. */
  percent?: number;
  message: string;
}

const PERCENT_LINE = /^\[\s*(\d{1,3})%\]/;

/** Extracts cmake's percentage from one output line, if it has one. */
export function cmakePercent(line: string): number | undefined {
  const match = PERCENT_LINE.exec(line);
  return match?.[1] === undefined ? undefined : Number(match[1]);
}

/**
 * Returns a line handler that calls `report` with throttled compile progress.
 * @param intervalMs minimum milliseconds between two reports. Default 10 000.
 * @param now clock in milliseconds (injectable for tests).
 */
export function cmakeProgressReporter(
  report: (progress: LlamaProgress) => void,
  intervalMs = 10_000,
  now: () => number = Date.now,
): (line: string) => void {
  let lastPercent = -1;
  let lastAt = -Infinity;
  return (line) => {
    const percent = cmakePercent(line);
    if (percent === undefined || percent <= lastPercent) return;
    const due = lastPercent < 0 || percent === 100 || now() - lastAt >= intervalMs;
    if (!due) return;
    lastPercent = percent;
    lastAt = now();
    report({ phase: 'compile', percent, message: `compiling llama-server: ${percent}%` });
  };
}

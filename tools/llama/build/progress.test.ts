import { describe, expect, it } from 'vitest';
import { cmakePercent, cmakeProgressReporter, type LlamaProgress } from './progress.js';

describe('cmake progress', () => {
  it('reads the percentage of cmake build lines', () => {
    expect(cmakePercent('[  7%] Building C object ggml/src/CMakeFiles/ggml-base.dir/ggml.c.o')).toBe(7);
    expect(cmakePercent('[100%] Built target llama-server')).toBe(100);
    expect(cmakePercent('-- Configuring done')).toBeUndefined();
  });

  it('reports the first line, then at most once per interval, and always 100%', () => {
    let now = 0;
    const seen: LlamaProgress[] = [];
    const onLine = cmakeProgressReporter((p) => seen.push(p), 10_000, () => now);
    onLine('[  1%] a');
    now = 5_000;
    onLine('[ 20%] b'); // too soon
    now = 11_000;
    onLine('[ 30%] c');
    onLine('[ 30%] c again');
    now = 12_000;
    onLine('[100%] Built target llama-server');
    expect(seen.map((p) => p.percent)).toEqual([1, 30, 100]);
    expect(seen[0]?.message).toBe('compiling llama-server: 1%');
  });
});

import { describe, expect, it } from 'vitest';
import type { GenerationRecord } from './exchange.js';
import { GenerationLog } from './generations.js';

const record = (id: string, cost: number) => ({ generation: { id }, cost }) as unknown as GenerationRecord;

describe('the generations the fake remembers', () => {
  it('keeps the newest within its bound', () => {
    const log = new GenerationLog(3);
    for (let i = 1; i <= 5; i++) log.set(`gen-${i}`, record(`gen-${i}`, 0.25));
    expect([...log.keys()]).toEqual(['gen-3', 'gen-4', 'gen-5']);
    expect(log.get('gen-1')).toBeUndefined();
    log.clear();
    expect(log.size).toBe(0);
  });
});

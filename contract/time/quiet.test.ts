import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Quiet } from './quiet.js';

describe('Quiet: crypto jobs', () => {
  it('a synchronous crypto job (randomUUID, randomFillSync) is done when the call returns: nothing outstanding', () => {
    const quiet = new Quiet();
    try {
      randomFillSync(Buffer.alloc(16));
      randomUUID();
      // Before: each left a RANDOMBYTESREQUEST "outstanding" until a garbage collection destroyed it.
      expect(quiet.busyWith()).toEqual([]);
    } finally {
      quiet.close();
    }
  });

  it('an asynchronous one is outstanding until its callback', async () => {
    const quiet = new Quiet();
    try {
      const done = new Promise<void>((resolve) => randomBytes(16, () => resolve()));
      expect(quiet.busyWith()).toEqual(['1 operation(s) outstanding']);
      await done;
      expect(quiet.busyWith()).toEqual([]);
    } finally {
      quiet.close();
    }
  });
});

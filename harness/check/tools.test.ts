import { describe, expect, it } from 'vitest';
import type { AgentEvent } from '../../contract/events.js';
import { checkTools } from './tools.js';

const run = (args: string): AgentEvent => ({ type: 'tool', at: 1, epochMs: 1, callId: 'c', name: 'lookup_order', arguments: args, result: 'ok' });

describe('expect.tools', () => {
  it('passes on the exact count, and says what ran when it differs', () => {
    expect(checkTools([{ name: 'lookup_order', count: 1 }], [run('{"order_id":"1"}')])).toEqual([]);
    expect(checkTools([{ name: 'lookup_order', count: 1 }], [run('{"order_id":"1"}'), run('{"order_id":"1"}')])).toEqual([
      'tool lookup_order: expected 1 run, got 2 (lookup_order({"order_id":"1"}), lookup_order({"order_id":"1"}))',
    ]);
    expect(checkTools([{ name: 'lookup_order', count: 0 }], [])).toEqual([]);
    expect(checkTools([{ name: 'lookup_order', count: 2 }], [])).toEqual(['tool lookup_order: expected 2 runs, got 0']);
  });
});

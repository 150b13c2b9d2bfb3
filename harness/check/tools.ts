/**
 * `expect.tools`: how many times the agent ran each tool over the rehearsal (its `tool` events). This is what
 * proves a tool turn never ran a tool twice for one request, whatever failed around it.
 */
import type { AgentEvent } from '../../contract/events.js';
import type { ToolExpectation } from '../../contract/scenario/schema.js';
import { plural } from './words.js';

export function checkTools(expected: readonly ToolExpectation[], events: readonly AgentEvent[]): string[] {
  return expected.flatMap((want) => {
    const runs = events.flatMap((e) => (e.type === 'tool' && e.name === want.name ? [e] : []));
    if (runs.length === want.count) return [];
    const listed = runs.map((r) => `${r.name}(${r.arguments})`).join(', ');
    return [`tool ${want.name}: expected ${plural(want.count, 'run')}, got ${runs.length}${listed ? ` (${listed})` : ''}`];
  });
}

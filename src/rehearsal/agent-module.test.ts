/** The agent module contract: every way a module can break it gets its own message naming the file. */
import { voice } from '@livekit/agents';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ScaledClock } from '../../contract/clock.js';
import { AgentEvents } from '../chain/events.js';
import { isHoldlineLLM } from '../package/holdline-llm.js';
import { loadAgentModule, type AgentModuleContext } from './agent-module.js';

const dir = mkdtempSync(join(tmpdir(), 'holdline-module-'));
const ctx: AgentModuleContext = { models: ['a/b'], openrouter: { baseURL: 'http://127.0.0.1:9/api/v1', apiKey: 'sk-or-v1-x' }, local: { baseURL: 'http://127.0.0.1:9/v1', model: 'local' } };
const clock = new ScaledClock(1);
const rehearsal = { clock, events: new AgentEvents(clock) };
const AGENTS = JSON.stringify(import.meta.resolve('@livekit/agents'));
const HOLDLINE = JSON.stringify(new URL('../index.ts', import.meta.url).href);

function moduleFile(name: string, source: string): string {
  const file = join(dir, name);
  writeFileSync(file, source);
  return file;
}

const load = (file: string) => loadAgentModule(file, ctx, rehearsal);

describe('loadAgentModule', () => {
  it.each([
    ['no-such.ts', null, /no-such\.ts: no such file/],
    ['syntax.ts', 'export default (', /syntax\.ts: could not be loaded: /],
    ['named.ts', 'export const createAgent = () => 1;', /named\.ts: has no default export \(it exports createAgent\)/],
    ['class.ts', `import { voice } from ${AGENTS}; export default class extends voice.Agent {}`, /class\.ts: its default export is a class; export a function/],
    ['throws.ts', 'export default () => { throw new Error("no key"); };', /throws\.ts: its default export threw: no key/],
    ['number.ts', 'export default () => 42;', /number\.ts: expected a voice\.Agent, got number/],
    ['object.ts', 'export default () => new Map();', /object\.ts: expected a voice\.Agent, got a Map/],
    ['no-llm.ts', `import { voice } from ${AGENTS}; export default () => new voice.Agent({ instructions: 'hi' });`, /no-llm\.ts: the agent has no LLM of its own/],
  ])('%s is refused with its reason', async (name, source, message) => {
    const file = source === null ? join(dir, name) : moduleFile(name, source);
    await expect(load(file)).rejects.toThrow(message);
  });

  it('refuses an agent that brings its own TTS (speech is recorded in a rehearsal)', async () => {
    const file = moduleFile(
      'tts.ts',
      `import { voice, llm, tts } from ${AGENTS};
       class Quiet extends tts.TTS { label = 'quiet'; constructor() { super(24000, 1, { streaming: false }); } synthesize(): never { throw new Error('no'); } stream(): never { throw new Error('no'); } }
       class Silent extends llm.LLM { label() { return 'silent'; } chat(): never { throw new Error('no'); } }
       export default () => new voice.Agent({ instructions: 'hi', llm: new Silent(), tts: new Quiet() });`,
    );
    await expect(load(file)).rejects.toThrow(/tts\.ts: the agent sets its own tts; .* give those to your AgentSession instead/);
  });

  it("gives the factory the context, and createHoldlineLLM inside it runs on the rehearsal's clock and events", async () => {
    const file = moduleFile(
      'good.ts',
      `import { voice } from ${AGENTS}; import { createHoldlineLLM } from ${HOLDLINE};
       export default (ctx) => new voice.Agent({ instructions: ctx.models.join(','), llm: createHoldlineLLM({ models: ctx.models }) });`,
    );
    const agent = await load(file);
    expect(agent).toBeInstanceOf(voice.Agent);
    expect(agent.instructions).toBe('a/b');
    expect(isHoldlineLLM(agent.llm)).toBe(true);
    const chain = agent.llm as unknown as { options: { clock: unknown; events: unknown } };
    expect(chain.options.clock).toBe(rehearsal.clock);
    expect(chain.options.events).toBe(rehearsal.events);
  });
});

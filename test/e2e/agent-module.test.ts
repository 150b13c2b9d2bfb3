/**
 * `npm run scenario -- <name> --agent <module>`: a module that breaks the contract, or is not there, or cannot run
 * where the stack would put it, is refused with its reason before anything plays (so beside the virtual-time
 * rehearsals). The example agents rehearsed end to end: agent-module.wall.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../kit/temp.js';
import { interruptRunners, runnerJson } from './runner-process.js';

const dir = tempDir('agent-module-refused');
afterEach(() => interruptRunners());

describe('rehearsing your own agent module: refused with the reason', { timeout: 120_000 }, () => {
  it('a module without a default export is refused with the file and the contract, exit 2', { timeout: 120_000 }, async () => {
    const file = join(dir, 'no-default.ts');
    writeFileSync(file, 'export const agent = 1;\n');
    const { code, json, stderr } = await runnerJson(['rate-limit-storm', '--agent', file]);
    expect(code).toBe(2);
    expect(json.passed).toBe(false);
    expect(stderr).toMatch(/agent module .*no-default\.ts: has no default export \(it exports agent\)/);
    expect(stderr).toMatch(/the contract: export default a function that returns a voice\.Agent/);
  });

  it('a module path that does not exist is a usage error before anything starts', async () => {
    const { code, stderr } = await runnerJson(['rate-limit-storm', '--agent', 'examples/agents/nope.ts']);
    expect(code).toBe(2);
    expect(stderr).toContain('--agent: no such file: examples/agents/nope.ts');
  });

  it('a module runs from this machine: --stack containers is a usage error', async () => {
    const refused = await runnerJson(['rate-limit-storm', '--agent', 'examples/agents/holdline-agent.ts', '--stack', 'containers']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--agent runs your module on this machine: use --stack processes (or auto)');
  });
});

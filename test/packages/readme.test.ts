/** The README's example agent is the one the tests rehearse, so it cannot rot: the file's code, verbatim. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');

it("the README's example agent is examples/agents/holdline-agent.ts from its first import on", () => {
  const file = readFileSync(join(root, 'examples/agents/holdline-agent.ts'), 'utf8');
  const code = file.slice(file.indexOf('\nimport ') + 1);
  expect(code.length).toBeGreaterThan(500);
  expect(readFileSync(join(root, 'README.md'), 'utf8')).toContain(`// my-agent.ts (examples/agents/holdline-agent.ts)\n${code}`);
});

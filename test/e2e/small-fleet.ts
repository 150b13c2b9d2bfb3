/** The fleet the runner's command-line tests play: three calls a second apart, one key, a model rate limited all minute. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { isAlive } from '../../tools/kit/processes.js';
import { tempDir } from '../kit/temp.js';

export const PIDS = /· pids: (.*)\n/;

/** Writes the fleet's scenario file in a fresh directory and returns its path. */
export function smallFleet(): string {
  const dir = tempDir('fleet-cli');
  const file = join(dir, 'small-fleet.yaml');
  writeFileSync(
    file,
    `name: small-fleet
description: Three calls a second apart, the first model rate limited all minute.
agent: { models: [openai/gpt-4o-mini, anthropic/claude-3.5-haiku] }
calls: 3
stagger: 1s
fake:
  reply: { text: "Paris.", ttft: 100ms }
  rules:
    - { when: { model: "openai/*" }, then: { error: rate-limit-per-minute, retryAfter: 60s } }
user: [{ at: 0s, say: "What is the capital of France?" }]
expect:
  spoken: [{ text: "Paris.", source: "openrouter:anthropic/claude-3.5-haiku", start: [0s, 3s] }]
  requests:
    - { model: "openai/*", count: 1 }
    - { model: "anthropic/*", count: 3 }
`,
  );
  return file;
}

export type Json = { passed: boolean; spoken: unknown[]; failures: string[]; calls?: { call: number; spoken: { text: string; source: string; start: number }[] }[] };

/** Every pid the runner announced is gone once it exited. */
export function expectAllGone(pids: Record<string, number>): void {
  for (const [name, pid] of Object.entries(pids)) expect(isAlive(pid), `${name} (pid ${pid})`).toBe(false);
}


/**
 * The two published packages, described once: which compiled folders each carries, its entry points, and its
 * dependencies by name (versions come from the root package.json, so the repository and the packages agree).
 *
 * - `@holdline/fake`: the fake OpenRouter, its CLI, the scenario JSON Schema and library. No LiveKit, no
 *   onnxruntime, no llama: express, pino, yaml, zod and faker only.
 * - `holdline`: createHoldlineLLM, HoldlineAgent, and `holdline scenario --agent` (the rehearsal runner, which
 *   carries its own copy of the fake to play against). LiveKit's agents framework is a peer: the user's copy.
 */
export interface PackageSpec {
  /** Folder under dist/stage and the tarball's base name. */
  dir: string;
  /** Compiled folders (under dist/build) the package carries, at the same relative paths. */
  compiled: string[];
  manifest: Record<string, unknown>;
  dependencies: string[];
  peerDependencies?: string[];
}

export const VERSION = '0.1.0';

const common = {
  version: VERSION,
  type: 'module',
  license: 'Apache-2.0',
  engines: { node: '>=20.19' },
  repository: { type: 'git', url: 'https://github.com/holdline/holdline' },
};

export const PACKAGES: PackageSpec[] = [
  {
    dir: 'fake',
    compiled: ['contract', 'fakes/openrouter'],
    manifest: {
      name: '@holdline/fake',
      description: 'A fake OpenRouter for tests: scripted rate limits, outages, hangs and broken streams, from YAML or code.',
      ...common,
      exports: {
        '.': { types: './fakes/openrouter/public.d.ts', default: './fakes/openrouter/public.js' },
        './assert': { types: './fakes/openrouter/assert.d.ts', default: './fakes/openrouter/assert.js' },
        './scenario.schema.json': './scenarios/scenario.schema.json',
        './package.json': './package.json',
      },
      bin: { 'holdline-fake': './fakes/openrouter/cli.js' },
      files: ['contract', 'fakes', 'scenarios', 'README.md', 'LICENSE', 'CHANGELOG.md'],
      keywords: ['openrouter', 'fake', 'mock', 'testing', 'llm', 'rate-limit', 'chaos'],
    },
    dependencies: ['express', 'pino', 'yaml', 'zod', '@faker-js/faker'],
  },
  {
    dir: 'holdline',
    compiled: ['contract', 'fakes/openrouter', 'src', 'harness', 'tools/kit', 'tools/llama', 'tools/containers'],
    manifest: {
      name: 'holdline',
      description: "holdline's LLM chain for LiveKit voice agents (the caller is never left in silence), and rehearsals of your own agent against a fake OpenRouter.",
      ...common,
      exports: {
        '.': { types: './src/index.d.ts', default: './src/index.js' },
        './package.json': './package.json',
      },
      bin: { holdline: './harness/bin.js' },
      files: ['contract', 'fakes', 'src', 'harness', 'tools', 'scenarios', 'README.md', 'LICENSE', 'CHANGELOG.md'],
      keywords: ['livekit', 'voice-agent', 'openrouter', 'fallback', 'llm', 'testing'],
    },
    dependencies: ['@livekit/agents-plugin-openai', 'openai', 'pino', 'prom-client', 'ioredis', 'zod', 'yaml', 'express', 'dotenv', 'tsx', '@faker-js/faker'],
    peerDependencies: ['@livekit/agents', '@livekit/rtc-node'],
  },
];

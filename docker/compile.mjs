// The image's JavaScript: every TypeScript file the agent and the fake can load (src, fakes, contract, tools;
// tests excepted), compiled in place beside its source (src/main.ts -> src/main.js) at image build time, so a
// container starts with `node src/main.js` instead of tsx compiling the agent's few hundred modules at every start
// (measured on a busy 2-core machine: 2 to 5.6 s to the agent's listening line against 9 to 10 s).
// In place, so every path the code finds from its own file (the scenario library, ../../scenarios) holds unchanged;
// tsx, which `npm start` still uses, keeps loading the .ts files: it resolves `./x.js` to a sibling `./x.ts` first.
// esbuild is what tsx itself compiles with, with tsx's settings that change what runs (ESM, keepNames: a class
// keeps its name in messages), so the compiled agent is the one tsx runs: `--json` stays byte for byte the same.
// usage (in the Dockerfile, from /app): node docker/compile.mjs
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const ROOTS = ['src', 'fakes', 'contract', 'tools'];

const entryPoints = ROOTS.flatMap((root) =>
  readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((file) => join(root, file))
    .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.endsWith('.test.ts') && !file.split('/').includes('node_modules')),
);

const started = Date.now();
await build({ entryPoints, outdir: '.', outbase: '.', format: 'esm', platform: 'node', target: 'node20', keepNames: true, logLevel: 'warning' });
console.log(`compiled ${entryPoints.length} TypeScript files in ${Date.now() - started} ms`);

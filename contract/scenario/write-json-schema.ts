/**
 * Writes scenarios/scenario.schema.json from the zod schema (`npm run schema`), or with `--check` fails when
 * the committed file has drifted from it (part of `npm test`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { SCENARIO_DIR } from './library.js';
import { fault, faultInput, faultJsonForms, scenarioSchema } from './schema.js';

function scenarioJsonSchema(): Record<string, unknown> {
  const forms = z.toJSONSchema(faultJsonForms, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  delete forms.$schema;
  const schema = z.toJSONSchema(scenarioSchema, {
    io: 'input',
    unrepresentable: 'any',
    override: (ctx) => {
      // A `then` is parsed by key (see schema.ts); editors get its input forms instead of "anything".
      if (ctx.zodSchema === fault || ctx.zodSchema === faultInput) {
        for (const key of Object.keys(ctx.jsonSchema)) delete (ctx.jsonSchema as Record<string, unknown>)[key];
        Object.assign(ctx.jsonSchema, forms);
      }
    },
  }) as Record<string, unknown>;
  return { ...schema, $id: 'https://holdline.dev/scenario.schema.json', title: 'holdline scenario' };
}

const target = join(SCENARIO_DIR, 'scenario.schema.json');
const text = `${JSON.stringify(scenarioJsonSchema(), null, 2)}\n`;
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(target, 'utf8');
  } catch {
    // missing counts as drift
  }
  if (current !== text) {
    console.error(`${target} is out of date with contract/scenario/schema.ts: run \`npm run schema\` and commit it.`);
    process.exit(1);
  }
  console.log('scenario.schema.json is up to date');
} else {
  writeFileSync(target, text);
  console.log(`wrote ${target}`);
}

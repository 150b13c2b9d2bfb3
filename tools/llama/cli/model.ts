/** `npm run llama:model [-- --seed N] [-- --out FILE]`: writes the tiny model (into the cache by default). */
import { parseArgs } from 'node:util';
import { ensureTinyModel } from '../model.js';

const { values } = parseArgs({ options: { seed: { type: 'string' }, out: { type: 'string' } } });
const seed = values.seed === undefined ? undefined : Number(values.seed);
if (seed !== undefined && !(Number.isInteger(seed) && seed >= 0 && seed <= 0xffffffff)) {
  console.error(`--seed must be an integer from 0 to 4294967295, got ${values.seed}`);
  process.exit(2);
}
const model = await ensureTinyModel({ seed, path: values.out });
console.log(`tiny model: ${model.path} (${(model.bytes / 1024).toFixed(0)} KiB${model.written ? '' : ', already up to date'})`);

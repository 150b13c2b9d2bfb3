/** `npm run containers:prepare`: see ../prepare.ts. Exit 0 when the container test stack can run here. */
import { prepare } from '../prepare.js';
import { timedSay } from './say.js';

const say = timedSay();
try {
  const { state, missing } = await prepare(say);
  const forTests = missing.filter((m) => m.image.forTests);
  for (const { image } of missing) say(`not available: ${image.name} (${image.usedBy.join(', ')})`);
  if (forTests.length > 0) {
    say(`the container test stack cannot run: ${forTests.map((m) => m.image.name).join(', ')} missing`);
    process.exitCode = 1;
  } else {
    say('ready: the container test stack can run (npm run scenario -- rate-limit-storm --stack containers)');
    const exports = [state.dockerHost && `DOCKER_HOST=${state.dockerHost}`, state.dockerConfig && `DOCKER_CONFIG=${state.dockerConfig}`].filter(Boolean);
    if (exports.length > 0) say(`the runner and the tests find this engine themselves; for the docker CLI: export ${exports.join(' ')}`);
    if (state.started) say('stop it with: npm run containers:stop');
  }
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}

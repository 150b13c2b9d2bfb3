/**
 * `npm run containers:stop`: stops what `containers:prepare` started (its dockerd and containerd by pid, the
 * containers and networks left in that private engine, the iptables chains and rules and the links dockerd
 * added) and nothing else. An engine prepare only found is left alone. Images stay in the data root as a cache.
 */
import { rmSync } from 'node:fs';
import { stopDockerd } from '../engine.js';
import { clearState, paths, readState, RUN_DIR } from '../state.js';
import { timedSay } from './say.js';

const say = timedSay();
const state = readState();
try {
  if (!state?.started) {
    say('prepare started no engine here: nothing to stop');
  } else {
    await stopDockerd(state.started, state.dockerHost ?? `unix://${paths.socket}`, say);
    rmSync(RUN_DIR, { recursive: true, force: true });
    say(`stopped; images stay cached in ${paths.dataRoot()}`);
  }
  clearState();
} catch (error) {
  say(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}

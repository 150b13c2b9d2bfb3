/**
 * `npm run containers:prepare`: makes the container stack runnable here, and says what it does.
 *
 * 1. An engine: one that answers is used as it is (a laptop's Docker, a hosted runner's). When none answers
 *    and this is root on Debian, Debian's docker.io is installed and dockerd started on a private socket and
 *    data root, recorded for `containers:stop`.
 * 2. Compose v2 (and buildx): used if `docker compose` is v2, else fetched from Debian trixie into a private
 *    DOCKER_CONFIG (root on Debian only).
 * 3. Images: each image the tests need (the Dockerfile's base, docker-compose.test.yml's, Ryuk's) is used if
 *    present, else pulled, else (no registry) built as a labelled stand-in where there is an honest one; the
 *    rest are reported. Without Ryuk's image, Testcontainers' reaper is disabled for runs through this engine.
 *    Production-only images are reported present or not, never pulled.
 *
 * Running it again finds everything in place and only checks. Where an engine and a registry exist, it only
 * checks (and pulls what is missing).
 */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engineVersion, installEnginePackages, installProblem, startDockerd, stopDockerd } from './engine.js';
import { buildStandIn, imagePresence, RYUK_IMAGE, tryPull, wantedImages, type WantedImage } from './images.js';
import { composeVersion, installPlugins } from './plugins.js';
import { clearState, engineEnv, paths, readState, writeState, type EngineState } from './state.js';
import { isAlive } from '../kit/processes.js';

type Say = (line: string) => void;

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../..');

export interface PrepareResult {
  state: EngineState;
  /** Images that could not be had, with why and who needs them. */
  missing: { image: WantedImage; why: string }[];
}

export async function prepare(say: Say): Promise<PrepareResult> {
  let state = await ensureEngine(say);
  const env = { ...process.env, ...engineEnv(state) };
  state = { ...state, ...(await ensureCompose(env, say)) };
  Object.assign(env, engineEnv(state));
  writeState(state);
  const missing: PrepareResult['missing'] = [];
  // The base first: the llama.cpp stand-in is built on it.
  const images = wantedImages(REPO_ROOT, { ...env, TESTCONTAINERS_RYUK_DISABLED: undefined }).sort((a, b) => Number(b.standIn === 'node-base') - Number(a.standIn === 'node-base'));
  let ryukDisabled = false;
  for (const image of images) {
    const why = await ensureImage(image, env, say);
    if (why === undefined) continue;
    if (image.name === RYUK_IMAGE) {
      ryukDisabled = true;
      say('  so TESTCONTAINERS_RYUK_DISABLED=true for this engine: the tests remove their own containers and networks');
    } else {
      missing.push({ image, why });
    }
  }
  state = { ...state, ryukDisabled };
  writeState(state);
  return { state, missing };
}

async function ensureEngine(say: Say): Promise<EngineState> {
  const recorded = readState();
  const recordedAlive = recorded?.started !== undefined && isAlive(recorded.started.dockerdPid);
  if (recorded?.started && !recordedAlive) {
    say(`the dockerd prepare started before (pid ${recorded.started.dockerdPid}) is gone: clearing what it left`);
    await stopDockerd(recorded.started, recorded.dockerHost ?? `unix://${paths.socket}`, say);
    clearState();
  }
  const env = { ...process.env, ...(recordedAlive ? engineEnv(recorded) : {}) };
  const version = await engineVersion(env);
  if (version) {
    if (recordedAlive && recorded) {
      say(`engine: the dockerd ${version} prepare started answers (pid ${recorded.started?.dockerdPid}, ${recorded.dockerHost})`);
      return recorded;
    }
    say(`engine: Docker ${version} answers at ${process.env.DOCKER_HOST ?? 'the default socket'}; using it as it is`);
    return { ...(process.env.DOCKER_HOST && { dockerHost: process.env.DOCKER_HOST }) };
  }
  const problem = installProblem();
  if (problem) throw new Error(`no Docker engine answers, and none can be installed here: ${problem}`);
  say('engine: none answers; installing and starting Debian\'s dockerd on a private socket');
  await installEnginePackages(say);
  // Recorded as soon as dockerd is spawned, and again once it answers (with its containerd), so `containers:stop`
  // can stop it whatever fails or is interrupted later.
  const dockerHost = `unix://${paths.socket}`;
  const started = await startDockerd(say, (spawned) => writeState({ dockerHost, started: spawned }));
  const state: EngineState = { dockerHost, started };
  writeState(state);
  return state;
}

async function ensureCompose(env: NodeJS.ProcessEnv, say: Say): Promise<Pick<EngineState, 'dockerConfig'>> {
  const version = await composeVersion(env);
  if (version) {
    say(`compose: docker compose ${version}${env.DOCKER_CONFIG ? ` (plugins in ${env.DOCKER_CONFIG})` : ''}`);
    return env.DOCKER_CONFIG === paths.dockerConfig() ? { dockerConfig: paths.dockerConfig() } : {};
  }
  const own = await composeVersion({ ...env, DOCKER_CONFIG: paths.dockerConfig() });
  if (own) {
    say(`compose: docker compose ${own} (plugins in ${paths.dockerConfig()})`);
    return { dockerConfig: paths.dockerConfig() };
  }
  const problem = installProblem();
  if (problem) throw new Error(`\`docker compose\` is not Compose v2, which Testcontainers needs, and it cannot be installed here: ${problem}`);
  const dockerConfig = await installPlugins(say);
  const installed = await composeVersion({ ...env, DOCKER_CONFIG: dockerConfig });
  if (!installed) throw new Error(`installed the Compose plugin into ${dockerConfig}, but \`docker compose version\` still fails`);
  say(`compose: docker compose ${installed}`);
  return { dockerConfig };
}

/** Undefined when the image is there at the end, else why not. */
async function ensureImage(image: WantedImage, env: NodeJS.ProcessEnv, say: Say): Promise<string | undefined> {
  const who = image.usedBy.join(', ');
  const present = await imagePresence(image.name, env);
  if (present !== undefined) {
    say(`image ${image.name}: present${present ? ' (a stand-in)' : ''} [${who}]`);
    return undefined;
  }
  if (!image.forTests) {
    // Production-only images (LiveKit, the speech services) are big and no test runs them: not pulled here.
    say(`image ${image.name}: not present, not pulled (no test needs it; \`docker pull\` it to run ${who})`);
    return 'not present';
  }
  say(`image ${image.name}: pulling [${who}]`);
  const pull = await tryPull(image.name, env);
  if (pull.pulled) {
    say(`image ${image.name}: pulled`);
    return undefined;
  }
  if (!image.standIn) {
    say(`image ${image.name}: cannot be had here (${pull.why}); no honest stand-in exists, so ${who} cannot start here`);
    return pull.why;
  }
  say(`image ${image.name}: no registry (${pull.why}); building an offline stand-in`);
  const started = Date.now();
  await buildStandIn(image, env, say);
  say(`image ${image.name}: stand-in built in ${Math.round((Date.now() - started) / 1000)} s`);
  return undefined;
}

/**
 * The test rig's image (the Dockerfile: the agent and the fake), built once per process and per checkout rather than
 * at every container start. A start used to run `compose up --build`: a second of BuildKit's cache even when nothing
 * changed, and Compose building the fake's and the agent's tags at once, which collided between two starts and
 * needed a machine-wide lock. Now one `docker build` without a tag gives the image's id (a digest of its content),
 * and the image is tagged `holdline-rig:<the id's first 12 hex digits>`: two checkouts on one engine (developers'
 * worktrees, CI runners sharing an engine) each get their own code's image and can never run each other's, and a
 * tag nobody exports twice at once cannot collide. The tag is there so `docker image prune` leaves the image alone
 * while rehearsals use it; `docker images holdline-rig` lists them, and an old one can go with `docker rmi`.
 * By hand, `docker compose -f docker-compose.test.yml up --build` still builds its own `holdline:test`.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exec } from '../../tools/kit/run-command.js';
import { StartError } from '../../tools/kit/start-error.js';

export const RIG_REPOSITORY = 'holdline-rig';

/** The first build (npm ci) takes a minute or more on a 2-core machine; a cached one about a second. */
const BUILD_TIMEOUT_MS = 10 * 60_000;

const built = new Map<string, Promise<string>>();

/**
 * The rig's image for the checkout at `repoRoot`, built on the first call in this process (later calls get the same
 * build; a failed build is tried again next time). Resolves to its `holdline-rig:<id>` tag. `signal` gives up this
 * caller's wait only: the build is shared by every rehearsal of the run, so one rehearsal cut off (its test's
 * timeout, a caller's Ctrl-C on one lane) must not fail the others' starts with its reason. The build itself is
 * bounded by its timeout and, in its own process group, never outlives this process.
 */
export function rigImage(
  repoRoot: string,
  progress: (line: string) => void,
  signal?: AbortSignal,
  build: (repoRoot: string, progress: (line: string) => void) => Promise<string> = buildRigImage,
): Promise<string> {
  let image = built.get(repoRoot);
  if (!image) {
    image = build(repoRoot, progress);
    built.set(repoRoot, image);
    image.catch(() => built.delete(repoRoot));
  }
  return signal ? untilAborted(image, signal) : image;
}

/** `promise`, or a rejection with the signal's reason as soon as it aborts (the promise goes on for other waiters). */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason as Error);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** The tag for an image id (`sha256:<64 hex>`). */
export function rigTag(imageId: string): string {
  const hex = /^sha256:([0-9a-f]{64})$/.exec(imageId.trim())?.[1];
  if (!hex) throw new StartError(`docker build gave no image id (got ${JSON.stringify(imageId.slice(0, 80))})`);
  return `${RIG_REPOSITORY}:${hex.slice(0, 12)}`;
}

/**
 * The `docker build` arguments: the image id into `iidFile`, and behind a TLS-intercepting proxy the CA file
 * NODE_EXTRA_CA_CERTS names as the BuildKit secret `host_ca` (the Dockerfile mounts it for `npm ci` only, never in a
 * layer). Only the file's path is on the command line.
 */
export function buildArgs(repoRoot: string, iidFile: string, caFile?: string): string[] {
  return ['build', '--iidfile', iidFile, ...(caFile ? ['--secret', `id=host_ca,src=${caFile}`] : []), repoRoot];
}

async function buildRigImage(repoRoot: string, progress: (line: string) => void): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'holdline-rig-'));
  try {
    const iidFile = join(dir, 'iid');
    const ca = process.env.NODE_EXTRA_CA_CERTS;
    progress(`docker build: the rig's image from ${repoRoot} (once per run; cached layers make it a second or two)`);
    // BuildKit for the secret mount (the default from Docker 23; dockerd 20.10 needs asking).
    const result = await exec('docker', buildArgs(repoRoot, iidFile, ca && existsSync(ca) ? ca : undefined), {
      cwd: repoRoot,
      env: { ...process.env, DOCKER_BUILDKIT: '1' },
      timeoutMs: BUILD_TIMEOUT_MS,
      group: true,
    });
    if (result.code !== 0) {
      const why = result.timedOut ? `did not finish within ${BUILD_TIMEOUT_MS / 60_000} min` : `failed (${result.error?.message ?? `exit ${result.code}`})`;
      throw new StartError(`docker build of the rig's image ${why}:\n${result.tail.map((l) => `  | ${l}`).join('\n')}`);
    }
    const imageId = readFileSync(iidFile, 'utf8').trim();
    const tag = rigTag(imageId);
    const tagged = await exec('docker', ['tag', imageId, tag]);
    if (tagged.code !== 0) throw new StartError(`docker tag ${tag} failed: ${tagged.stderr.trim()}`);
    return tag;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

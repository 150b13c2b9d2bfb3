/**
 * The process stack: the fake, llama-server (when `agent.local`) and the agent as child processes on free
 * loopback ports. The fake and llama-server start together; the agent last, since its environment names
 * both. A start that fails stops whatever had started; a service that dies later is reported by `crashed`.
 */
import { STUCK_AFTER_MS } from '../../contract/time/auto-clock.js';
import { Coordinator } from '../../contract/time/coordinator.js';
import { warmUp } from '../../contract/time/quiet.js';
import { downBaseURL } from '../../tools/llama/testing/down.js';
import { agentProcessEnv, redactor, secretsOf } from './agent-env.js';
import { describeExit, type Child } from '../../tools/kit/child.js';
import { StartError } from '../../tools/kit/start-error.js';
import { startAgentProcess, startFakeProcess, startLlamaProcess, type LocalServer, type Started } from './services.js';
import type { RunningStack, ServiceFailure, Stack, StartRequest } from './stack.js';

/**
 * @param options.virtual the runner, the fake and the agent share one virtual clock that skips idle time
 *   (contract/time/shared-clock.ts) instead of wall time times the speed.
 */
export function processStack(options: { virtual?: boolean } = {}): Stack {
  return { name: 'processes', virtual: options.virtual === true, start: (request) => startProcesses(request, options.virtual === true) };
}

async function startProcesses(request: StartRequest, virtual: boolean): Promise<RunningStack> {
  const { scenario, scenarioFile, speed, progress } = request;
  // Aborted by the caller, or by us when one service fails to start while another is still starting.
  const starting = new AbortController();
  const onAbort = () => starting.abort(request.signal?.reason);
  request.signal?.addEventListener('abort', onAbort, { once: true });
  const signal = starting.signal;

  // Virtual time: the runner coordinates one clock the fake and the agent join (shared-clock.ts).
  let coordinator: Coordinator | undefined;
  let reportStuck: (why: string[]) => void = () => {};
  const stuck = new Promise<ServiceFailure>((resolve) => {
    reportStuck = (why) => resolve({ service: 'the virtual clock', how: `could not move for ${STUCK_AFTER_MS / 1000} s: ${why.join('; ') || 'busy'}`, output: [] });
  });
  const started: Child[] = [];
  const keep = <T extends Started>(service: T): T => {
    started.push(service.child);
    progress(`${service.child.name} is up at ${service.url} (pid ${service.child.pid})`);
    return service;
  };
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // The agent first, so it does not log the others' disappearance as failures; then the rest together.
    const [last, ...rest] = [...started].reverse();
    await last?.stop();
    await Promise.all(rest.map((child) => child.stop()));
    await coordinator?.stop();
  };

  try {
    let clockAddress: string | undefined;
    if (virtual) {
      // Redis is a server outside the processes reached without fetch: quiet.ts cannot see a reply on its way yet.
      if (scenario.agent.env.REDIS_URL !== undefined) throw new StartError('agent.env sets REDIS_URL, which virtual time does not support yet: play this scenario on wall time (--speed N)');
      if (request.agentModule) throw new StartError("--agent plays on wall time (your module's own timeouts are wall time): give --speed N");
      await warmUp();
      coordinator = new Coordinator((why) => reportStuck(why));
      clockAddress = await coordinator.listen();
    }
    progress(`starting the fake OpenRouter${scenario.agent.local ? ' and llama-server' : ''}`);
    const [fake, local] = await settleAll([
      startFakeProcess(scenarioFile, speed, progress, signal, clockAddress).then(keep),
      scenario.agent.local ? startLlamaProcess(progress, signal).then(keep) : Promise.resolve(undefined),
    ], starting);
    progress('starting the agent');
    const redact = redactor(secretsOf(scenario));
    const env = agentProcessEnv(scenario, localUrls(fake.url, local, await downBaseURL()));
    const agent = keep(await startAgentProcess(env, speed, redact, progress, signal, request.agentModule, clockAddress));
    // Both joined before they printed their addresses; time moves from here.
    coordinator?.start();
    const crashed = firstCrash(started, () => stopping);
    return {
      fakeUrl: fake.url,
      agentUrl: agent.url,
      pids: Object.fromEntries(started.map((child) => [child.name, child.pid])),
      crashed: coordinator ? Promise.race([crashed, stuck.then((failure) => (stopping ? new Promise<never>(() => {}) : failure))]) : crashed,
      stop,
      ...(coordinator && { clock: coordinator.clock }),
    };
  } catch (error) {
    await stop();
    if (request.signal?.aborted) throw request.signal.reason;
    throw error instanceof StartError ? error : new StartError((error as Error).message);
  } finally {
    request.signal?.removeEventListener('abort', onAbort);
  }
}

/**
 * Like Promise.all, but when one start fails the others are aborted and awaited, so every child that did
 * start is known (and stopped) before the error goes up.
 */
async function settleAll<A, B>(starts: [Promise<A>, Promise<B>], starting: AbortController): Promise<[A, B]> {
  const [a, b] = starts;
  const failed = (error: unknown) => {
    starting.abort(error);
    throw error;
  };
  const results = await Promise.allSettled([a.catch(failed), b.catch(failed)]);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  // A sibling aborted by the failure rejects with that same failure as its reason.
  if (rejected) throw rejected.reason;
  return [(results[0] as PromiseFulfilledResult<A>).value, (results[1] as PromiseFulfilledResult<B>).value];
}

function localUrls(fakeUrl: string, local: LocalServer | undefined, closed: string) {
  return {
    openrouterBaseURL: `${fakeUrl}/api/v1`,
    localBaseURL: local?.baseURL ?? closed,
    localModel: local?.model ?? 'local',
  };
}

/** The first child to exit while nobody asked it to; pending forever once stopping began. */
function firstCrash(children: Child[], stopping: () => boolean): Promise<ServiceFailure> {
  return new Promise((resolve) => {
    for (const child of children) {
      void child.exited.then((exit) => {
        if (stopping()) return;
        resolve({ service: child.name, pid: child.pid, how: describeExit(exit), output: child.output() });
      });
    }
  });
}

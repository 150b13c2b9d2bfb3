/**
 * The process stack: the fake, llama-server (when `agent.local`), redis-server (when `agent.redis`) and the agent
 * as child processes on free loopback ports. The fake, llama-server and Redis start together; the agent last,
 * since its environment names them. A fleet (`calls: N`) is N agent processes, as LiveKit runs one process per
 * job, all on the one fake with the one key (and the one Redis). A start that fails stops whatever had started;
 * a service that dies later is reported by `crashed`.
 */
import { setMaxListeners } from 'node:events';
import { downBaseURL } from '../../tools/llama/testing/down.js';
import { agentProcessEnv, redactor, secretsOf } from './agent-env.js';
import { describeExit, type Child } from '../../tools/kit/child.js';
import { StartError } from '../../tools/kit/start-error.js';
import { startRedisServer, type RedisServer } from '../../src/testing/redis-server.js';
import { agentClockName, crashOrClockFailure, startStackClock, startWhenJoined, type StackClock } from './stack-clock.js';
import { startAgentProcess, startFakeProcess, type ClockJoin, startLlamaProcess, type LocalServer, type Started } from './services.js';
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
  // Every service's start listens on it: a fleet of 50 agents is not a leak.
  setMaxListeners(64, signal);

  // Virtual time: the runner coordinates one clock the fake and the agent join (shared-clock.ts).
  let clock: StackClock | undefined;
  const started: Child[] = [];
  const keep = <T extends Started>(service: T): T => {
    started.push(service.child);
    progress(`${service.child.name} is up at ${service.url} (pid ${service.child.pid})`);
    return service;
  };
  const agents = new Set<Child>();
  let redis: RedisServer | undefined;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // The agents first, so they do not log the others' disappearance as failures; then the rest together.
    await Promise.all([...agents].map((child) => child.stop()));
    await Promise.all([...started.filter((child) => !agents.has(child)).map((child) => child.stop()), redis?.stop()]);
    await clock?.coordinator.stop();
  };

  try {
    let join: ((name: string) => ClockJoin) | undefined;
    if (virtual) {
      if (request.agentModule) throw new StartError("--agent plays on wall time (your module's own timeouts are wall time): give --speed N");
      const shared = await startStackClock();
      clock = shared;
      join = (name) => ({ address: shared.address, token: shared.coordinator.token, name });
    }
    const redisWanted = scenario.agent.redis !== false;
    progress(`starting the fake OpenRouter${scenario.agent.local ? ', llama-server' : ''}${redisWanted ? ', redis-server' : ''}`);
    const [fake, local] = await settleAll<[Started, LocalServer | undefined, RedisServer | undefined]>([
      startFakeProcess(scenarioFile, speed, progress, signal, join?.('fake')).then(keep),
      scenario.agent.local ? startLlamaProcess(progress, signal).then(keep) : Promise.resolve(undefined),
      redisWanted
        ? startRedisServer().then((server) => {
            redis = server;
            progress(`redis-server is up at ${server.url} (pid ${server.pid})`);
            return server;
          })
        : Promise.resolve(undefined),
    ], starting);
    const calls = scenario.calls;
    progress(calls > 1 ? `starting ${calls} agents (one process per call)` : 'starting the agent');
    const redact = redactor(secretsOf(scenario));
    const env = { ...agentProcessEnv(scenario, localUrls(fake.url, local, await downBaseURL())), ...(redis && { REDIS_URL: redis.url }) };
    const agentsUp = await settleAll(
      Array.from({ length: calls }, (_, i) => {
        // Each its own name on the clock: ties between processes go by name, the same in every run.
        const joining = join?.(agentClockName(i + 1, calls));
        return startAgentProcess(env, speed, redact, progress, signal, request.agentModule, calls > 1 ? `the agent of call ${i + 1}` : 'the agent', joining).then((agent) => {
          agents.add(agent.child);
          return keep(agent);
        });
      }),
      starting,
    );
    const [first] = agentsUp as [Started, ...Started[]];
    const server = redis;
    // Each joins before it prints its address; time moves once all have.
    if (clock) await startWhenJoined(clock, calls);
    // Redis too: one that died on its own (not the scenario's `down`) would let the calls run on their own state and
    // be judged as if it were up.
    const redisDied = server?.died.then((how): ServiceFailure | Promise<never> => (stopping ? new Promise<never>(() => {}) : { service: 'redis-server', pid: server.pid ?? 0, how, output: [] }));
    const exits = firstCrash(started, () => stopping);
    const crashed = redisDied ? Promise.race([exits, redisDied]) : exits;
    return {
      fakeUrl: fake.url,
      agentUrl: first.url,
      ...(calls > 1 && { callUrls: agentsUp.map((agent) => agent.url) }),
      ...(server && { redis: { url: server.url, kill: () => server.kill(), restart: () => server.restart() } }),
      pids: { ...Object.fromEntries(started.map((child) => [child.name, child.pid])), ...(server?.pid !== undefined && { 'redis-server': server.pid }) },
      crashed: crashOrClockFailure(crashed, clock, () => stopping),
      stop,
      ...(clock && { clock: clock.coordinator.clock }),
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
 * start is known (and stopped) before the error goes up. The error is the first failure's: a sibling aborted by it
 * rejects with it wrapped in its own last output (service.ts), which would blame the wrong process (call 1's output
 * under call 3's exit).
 */
export async function settleAll<T extends readonly unknown[]>(starts: { [K in keyof T]: Promise<T[K]> }, starting: AbortController): Promise<T> {
  let first: { error: unknown } | undefined;
  const failed = (error: unknown) => {
    first ??= { error };
    starting.abort(error);
    throw error;
  };
  await Promise.allSettled((starts as readonly Promise<unknown>[]).map((start) => start.catch(failed)));
  if (first) throw first.error;
  return (await Promise.all(starts as readonly Promise<unknown>[])) as unknown as T;
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

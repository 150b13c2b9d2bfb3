/**
 * The inline stack: the fake OpenRouter and the rehearsal agent in the runner's own process, on one AutoClock
 * (contract/time/auto-clock.ts) that skips idle time. Same fake, same agent code (`startFake`,
 * `startRehearsal`) as the child processes run, reached over loopback HTTP as there; only the clock differs:
 * time stands still while anything works and jumps to the next timer when everything waits, so a rehearsal's
 * instants are exact and the same on any machine, and a minute of outage takes the work in it.
 *
 * llama-server (`agent.local`) stays a real child process: its answers take the wall time they take, and the
 * clock stands still while a request to it is open (quiet.ts), so scenario time excludes its computing.
 */
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { AutoClock, STUCK_AFTER_MS } from '../../contract/time/auto-clock.js';
import { warmUp } from '../../contract/time/quiet.js';
import { startFake } from '../../fakes/openrouter/index.js';
import { startRehearsal } from '../../src/rehearsal/server.js';
import { describeExit, type Child } from '../../tools/kit/child.js';
import { StartError } from '../../tools/kit/start-error.js';
import { downBaseURL } from '../../tools/llama/testing/down.js';
import { agentProcessEnv } from './agent-env.js';
import { virtualClockFailure } from './clock-failure.js';
import { startLlamaProcess } from './services.js';
import { fleetProblem, type RunningStack, type Stack, type StartRequest } from './stack.js';

export function inlineStack(): Stack {
  return { name: 'inline', virtual: true, start: startInline };
}

async function startInline(request: StartRequest): Promise<RunningStack> {
  const { scenario, progress } = request;
  const closers: (() => Promise<void>)[] = [];
  let stopping = false;
  const stop = async () => {
    stopping = true;
    for (const close of closers.splice(0).reverse()) await close().catch(() => {});
  };
  try {
    // A Redis in agent.env is fine: each command's 50 ms wall deadline is a short real timer, which holds the
    // clock until Redis answers or the deadline passes (quiet.ts).
    const fleet = fleetProblem(scenario, 'inline');
    if (fleet) throw new StartError(fleet);
    await warmUp();
    // Reported as a failure of the rehearsal (exit 3, with what kept the process busy), never a silent hang.
    const clockFailure = virtualClockFailure();
    // Started before anything connects: it must see every socket (quiet.ts).
    const clock = new AutoClock(Date.now(), (why) => clockFailure.report(`could not move for ${STUCK_AFTER_MS / 1000} s: ${why.join('; ') || 'busy'}`)).start();
    closers.push(() => clock.stop());
    const silent = pino({ level: 'silent' }, new Writable({ write: (_chunk, _encoding, done) => done() }));
    const fake = await startFake({ scenario, clock, log: silent });
    closers.push(() => fake.close());
    let local: { child: Child; baseURL: string; model: string } | undefined;
    if (scenario.agent.local) {
      progress('starting llama-server');
      local = await startLlamaProcess(progress, request.signal);
      const child = local.child;
      closers.push(() => child.stop());
    }
    const env = agentProcessEnv(scenario, { openrouterBaseURL: fake.baseURL, localBaseURL: local?.baseURL ?? (await downBaseURL()), localModel: local?.model ?? 'local' });
    const agent = await startRehearsal({ clock, env, log: silent, ...(request.agentModule && { agentModule: request.agentModule }) });
    closers.push(() => agent.close());
    progress(`the fake and the agent run in this process on virtual time (${fake.url}, ${agent.url})`);
    return {
      fakeUrl: fake.url,
      agentUrl: agent.url,
      pids: local ? { 'llama-server': local.child.pid } : {},
      crashed: new Promise((resolve) => {
        void clockFailure.failed.then((failure) => {
          if (!stopping) resolve(failure);
        });
        const child = local?.child;
        void child?.exited.then((exit) => {
          if (!stopping) resolve({ service: child.name, pid: child.pid, how: describeExit(exit), output: child.output() });
        });
      }),
      stop,
      clock,
    };
  } catch (error) {
    await stop();
    if (request.signal?.aborted) throw request.signal.reason;
    throw error instanceof StartError ? error : new StartError((error as Error).message);
  }
}

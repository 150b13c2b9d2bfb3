/** The runner's command line, parsed to a command or a usage error. Pure: argv and env in, a value out. */
import { parseArgs } from 'node:util';
import { MAX_CALLS } from '../../contract/scenario/schema.js';
import { STACK_CHOICES, type StackChoice } from '../stack/stack.js';

export const USAGE = `usage: npm run scenario -- <name> [--speed N|virtual] [--stack auto|processes|containers|inline] [--calls N] [--redis] [--json] [--report out.html] [--agent ./my-agent.ts]
       npm run scenario -- --file path/to/scenario.yaml [--speed N|virtual] [--stack ...] [--calls N] [--redis] [--json] [--report out.html] [--agent ...]
       npm run scenario -- --list
       npm run scenario -- --help

Plays a scenario from scenarios/ (or --file) against the real agent, the fake OpenRouter and, when the
scenario asks for it, llama-server, and checks what the caller heard.

  --speed N          scenario ms per wall ms (default 1: real time, to watch; 10 runs a minute in 6 s), or
                     virtual: a clock that skips idle time, shared by the runner and the services (inline,
                     processes or containers; exact instants on any machine; the default with --json unless
                     --agent is given)
  --file PATH        a scenario file outside the library
  --stack STACK      where the services run: processes (child processes), containers (docker-compose.test.yml
                     under Testcontainers; run npm run containers:prepare first), or auto (default: containers
                     when the engine, Compose v2 and every image are there, else processes; it says which and why),
                     or inline (the fake and the agent in the runner's process, on virtual time: the default
                     with --json when neither --speed nor --stack is given)
  --calls N          a fleet: N calls at once, each its own agent process (or container) on the same fake and
                     key, each playing the scenario's turns (overrides the scenario's calls; 1..${MAX_CALLS}). Fleets
                     run on processes (on virtual time where inline would have been the default) and containers
                     (one agent container per call; auto picks them when ready); inline refuses
  --redis            start a real Redis (redis-server, or the rig's redis service on containers) and give every
                     call its REDIS_URL (shared cooldowns), as the scenario's agent.redis: true does
  --json             print exactly one JSON object on stdout: scenario, passed, speed, spoken, requests, failures,
                     timing, and for a fleet calls (what each call heard)
  --report OUT.html  also write the timeline as one self-contained HTML page
  --agent MODULE     rehearse your own agent module (.ts or .js: export default a function returning a
                     voice.Agent with its own LLM) instead of holdline's agent; see README
  --list             the library, one scenario a line with its description

exit status: 0 passed, 1 failed, 2 usage or scenario-file error, 3 the rig failed (a service did not start
or died), 130 interrupted`;

export type Command =
  | { kind: 'help' }
  | { kind: 'list' }
  | {
      kind: 'run';
      target: { name: string } | { file: string };
      /** Scenario ms per wall ms; 1 (unused) on virtual time. */
      speed: number;
      /** On a clock that skips idle time (inline, or processes sharing the runner's clock). */
      virtual: boolean;
      stack: StackChoice;
      /** True when `stack` is a default (no --stack), which a fleet scenario may replace with processes. */
      stackDefaulted: boolean;
      json: boolean;
      report?: string;
      agent?: string;
      /** --calls: overrides the scenario's `calls`. */
      calls?: number;
      /** --redis: as `agent.redis: true` (a scenario's own `down` stays). */
      redis: boolean;
    }
  | { kind: 'usage'; message: string };

/** Options npm keeps for itself when they come before `--` (it sets npm_config_<name> instead). */
const NPM_EATS = ['speed', 'json', 'report', 'file', 'list', 'stack', 'agent', 'calls', 'redis'];

export function parseCommand(argv: readonly string[], env: NodeJS.ProcessEnv = {}): Command {
  const eaten = NPM_EATS.filter((name) => env[`npm_config_${name}`] !== undefined);
  if (eaten.length > 0) {
    return usage(`npm kept ${eaten.map((n) => `--${n}`).join(', ')} for itself: put -- before the runner's options, e.g. npm run scenario -- rate-limit-storm --speed 10`);
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        speed: { type: 'string' },
        stack: { type: 'string' },
        file: { type: 'string' },
        json: { type: 'boolean', default: false },
        report: { type: 'string' },
        agent: { type: 'string' },
        calls: { type: 'string' },
        redis: { type: 'boolean', default: false },
        list: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    return usage((error as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help' };
  if (values.list) return positionals.length === 0 ? { kind: 'list' } : usage('--list takes no scenario name');
  if (positionals.length > 1) return usage(`expected one scenario name, got ${positionals.length}: ${positionals.join(' ')}`);

  const name = positionals[0];
  if (name !== undefined && values.file !== undefined) return usage('give a scenario name or --file, not both');
  if (name === undefined && values.file === undefined) return usage('which scenario? give a name (see --list) or --file path.yaml');

  const askedVirtual = values.speed === 'virtual';
  const speed = values.speed === undefined || askedVirtual ? 1 : Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) return usage(`--speed: expected a positive number or virtual, got ${JSON.stringify(values.speed)}`);
  if (values.report !== undefined && values.report.trim() === '') return usage('--report: expected a file name like timeline.html');

  // --json is for scripts and CI: exact, repeatable timings (virtual time) unless a speed or a stack was asked for.
  // Not for --agent: a user's own LLM (FallbackAdapter...) keeps its timeouts on wall time, which virtual time
  // cannot compress, so its module plays on processes at the speed given, as before.
  const virtualByDefault = values.json && values.speed === undefined && values.agent === undefined;
  const stack = (values.stack ?? (virtualByDefault || askedVirtual ? 'inline' : 'auto')) as StackChoice;
  if (!STACK_CHOICES.includes(stack)) return usage(`--stack: expected ${STACK_CHOICES.join(', ')}, got ${JSON.stringify(values.stack)}`);
  if (askedVirtual && values.agent !== undefined) return usage("--speed virtual: --agent plays on wall time (your module's own timeouts are wall time); give --speed N");
  if (askedVirtual && stack === 'auto') return usage('--speed virtual runs on --stack inline, processes or containers: auto picks one itself, so name it');
  // Processes and containers join the runner's clock; auto keeps wall time (which stack it picks is the machine's).
  const virtual = stack === 'inline' || ((stack === 'processes' || stack === 'containers') && (askedVirtual || virtualByDefault));

  const calls = values.calls === undefined ? undefined : Number(values.calls);
  if (calls !== undefined && !(Number.isInteger(calls) && calls >= 1 && calls <= MAX_CALLS)) {
    return usage(`--calls: expected a whole number of calls from 1 to ${MAX_CALLS}, got ${JSON.stringify(values.calls)}`);
  }

  const target = name !== undefined ? { name } : { file: values.file as string };
  const agent = agentOption(values.agent);
  if (agent !== undefined && typeof agent !== 'string') return agent;
  return {
    kind: 'run',
    target,
    speed,
    virtual,
    stack,
    stackDefaulted: values.stack === undefined,
    json: values.json,
    redis: values.redis,
    ...(calls !== undefined && { calls }),
    ...(values.report !== undefined && { report: values.report }),
    ...(agent !== undefined && { agent }),
  };
}

/** `--agent`: a JavaScript or TypeScript module (whether it exists is checked when the run starts). */
function agentOption(value: string | undefined): string | Command | undefined {
  if (value === undefined) return undefined;
  if (!/\.(ts|mts|js|mjs)$/.test(value)) return usage(`--agent: expected a module file ending in .ts, .mts, .js or .mjs, got ${JSON.stringify(value)}`);
  return value;
}

function usage(message: string): Command {
  return { kind: 'usage', message };
}

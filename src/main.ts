/**
 * `npm run agent -- --rehearsal [--port 0] [--host 127.0.0.1] [--speed 1 | --clock HOST:PORT [--clock-name agent]] [--agent ./my-agent.ts]`:
 * the agent without a room (`--clock`: on the runner's virtual time, contract/time/shared-clock.ts, named there
 * `--clock-name`: each process on one clock its own name), with an HTTP API (see rehearsal/server.ts); `--agent` rehearses your own agent module instead
 * of holdline's (rehearsal/agent-module.ts). The production LiveKit worker is `npm start` (worker.ts).
 */
import 'dotenv/config';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from './config.js';
import { AgentModuleError } from './rehearsal/agent-module.js';
import { startRehearsal } from './rehearsal/server.js';
import { clockAddressProblem } from '../contract/time/link.js';
import { warmUp } from '../contract/time/quiet.js';
import { CLOCK_TOKEN_ENV, SharedClock } from '../contract/time/shared-clock.js';

const USAGE = 'usage: npm run agent -- --rehearsal [--port 0] [--host 127.0.0.1] [--speed 1 | --clock HOST:PORT [--clock-name agent]] [--agent ./my-agent.ts]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        rehearsal: { type: 'boolean', default: false },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        speed: { type: 'string', default: '1' },
        clock: { type: 'string' },
        'clock-name': { type: 'string', default: 'agent' },
        agent: { type: 'string' },
        help: { type: 'boolean', default: false },
      },
    }));
  } catch (error) {
    return usage((error as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.rehearsal) return usage('the agent runs in a LiveKit room with `npm start`; here only --rehearsal is supported');
  const port = Number(values.port);
  const speed = Number(values.speed);
  if (!Number.isInteger(port) || port < 0 || port > 65535) return usage(`--port: expected a port number, got ${values.port}`);
  if (!(speed > 0) || !Number.isFinite(speed)) return usage(`--speed: expected a positive number, got ${values.speed}`);
  const clockProblem = values.clock === undefined ? undefined : clockAddressProblem(values.clock);
  if (clockProblem) return usage(clockProblem);
  // Joined before anything listens or connects: the shared clock must see every socket (contract/time/quiet.ts);
  // the HTTP client is warmed up first, or compiling it would look like an idle process.
  if (values.clock !== undefined) await warmUp();
  const clock = values.clock === undefined ? undefined : await SharedClock.connect(values.clock, values['clock-name'], process.env[CLOCK_TOKEN_ENV] ?? '', () => {
        // The runner's clock went away (or refused this process): time cannot move here any more.
        console.error('the virtual clock this agent joined (--clock) closed its link: stopping');
        process.exit(1);
      });

  let agent;
  try {
    agent = await startRehearsal({ port, host: values.host, speed, ...(clock && { clock }), ...(values.agent !== undefined && { agentModule: resolve(values.agent) }) });
  } catch (error) {
    if (error instanceof AgentModuleError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE' || code === 'EACCES' || code === 'EADDRNOTAVAIL') {
      console.error(`--port ${port} --host ${values.host}: the rehearsal agent could not listen (${(error as Error).message})`);
      return 1;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
  await clock?.stop();
  return 0;
}

function usage(message: string): number {
  console.error(`${message}\n${USAGE}`);
  return 2;
}

main().then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

/**
 * `npm run agent -- --rehearsal [--port 0] [--host 127.0.0.1] [--speed 1] [--agent ./my-agent.ts]`: the agent
 * without a room, with an HTTP API (see rehearsal/server.ts); `--agent` rehearses your own agent module instead
 * of holdline's (rehearsal/agent-module.ts). The production LiveKit worker is `npm start` (worker.ts).
 */
import 'dotenv/config';
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { ConfigError } from './config.js';
import { AgentModuleError } from './rehearsal/agent-module.js';
import { startRehearsal } from './rehearsal/server.js';

const USAGE = 'usage: npm run agent -- --rehearsal [--port 0] [--host 127.0.0.1] [--speed 1] [--agent ./my-agent.ts]';

async function main(): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        rehearsal: { type: 'boolean', default: false },
        port: { type: 'string', default: '0' },
        host: { type: 'string', default: '127.0.0.1' },
        speed: { type: 'string', default: '1' },
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

  let agent;
  try {
    agent = await startRehearsal({ port, host: values.host, speed, ...(values.agent !== undefined && { agentModule: resolve(values.agent) }) });
  } catch (error) {
    if (error instanceof AgentModuleError) {
      console.error(error.message);
      return 2;
    }
    if (error instanceof ConfigError) {
      console.error(error.message);
      return 1;
    }
    throw error;
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await agent.close();
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

#!/usr/bin/env node
/**
 * `holdline-fake --scenario <name or path> [--port 4010] [--host 127.0.0.1] [--speed 1]` (in this repository: `npm run fake -- ...`)
 *
 * Serves the fake OpenRouter until Ctrl-C. Prints the line to paste into the agent's environment, the rules in one
 * sentence each, then one line per request as it ends. A scenario with problems prints every one
 * (file:line:column key: message) and exits 2 without serving; so does a bad command line.
 */
import { parseArgs } from 'node:util';
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile, ScenarioError } from '../../contract/scenario/load.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { describeRules } from './rules/rule.js';
import { formatEntry } from './log-line.js';
import { startFake } from './server.js';

const USAGE = 'usage: holdline-fake --scenario <name or path> [--port 4010] [--host 127.0.0.1] [--speed 1]   (in the repository: npm run fake -- ...)';
const EXIT_USAGE = 2;

interface CliOptions {
  scenario: string;
  port: number;
  host: string;
  speed: number;
}

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(EXIT_USAGE);
}

function readOptions(argv: string[]): CliOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string' },
        port: { type: 'string', default: '4010' },
        host: { type: 'string', default: '127.0.0.1' },
        speed: { type: 'string', default: '1' },
        help: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    usageError((err as Error).message);
  }
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const scenario = values.scenario;
  if (typeof scenario !== 'string' || scenario === '') usageError('missing --scenario');
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) usageError(`--port must be an integer 0-65535, got ${String(values.port)}`);
  const speed = Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) usageError(`--speed must be a positive number, got ${String(values.speed)}`);
  return { scenario, port, speed, host: String(values.host) };
}

function loadOrExit(nameOrPath: string): Scenario {
  try {
    return loadScenarioFile(resolveScenario(nameOrPath));
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    console.error(err.message);
    process.exit(EXIT_USAGE);
  }
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  const scenario = loadOrExit(options.scenario);
  const fake = await startFake({ scenario, port: options.port, host: options.host, speed: options.speed }).catch((err: unknown) => {
    console.error(`cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
    process.exit(1);
  });

  console.log(`fake openrouter: scenario ${scenario.name} (seed ${scenario.seed}), speed ${options.speed}`);
  console.log(`OPENROUTER_BASE_URL=${fake.baseURL}`);
  for (const line of describeRules(scenario)) console.log(`  ${line}`);
  fake.events.on('closed', (entry) => console.log(formatEntry(entry)));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`${signal.toLowerCase()}: closing`);
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();

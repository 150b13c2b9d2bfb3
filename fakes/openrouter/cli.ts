#!/usr/bin/env node
/**
 * `holdline-fake --scenario <name or path> [--port 4010] [--host 127.0.0.1] [--speed 1 | --clock HOST:PORT] [--json] [--admin-token <token>]`
 * (`--clock`: join the runner's virtual time, contract/time/shared-clock.ts, instead of wall time times --speed)
 * `holdline-fake --record <out.yaml> --upstream <base url> [--keep-content] [--seed 1] [--port 4010]`
 * (in this repository: `npm run fake -- ...`)
 *
 * Record mode: a pass-through proxy to the upstream (record/proxy.ts); on Ctrl-C it writes a scenario replaying
 * what it saw (record/to-scenario.ts). The key is passed on, never written.
 *
 * Serves the fake OpenRouter until Ctrl-C. Prints the line to paste into the agent's environment, the rules in one
 * sentence each, then one line per request as it ends. A scenario with problems prints every one
 * (file:line:column key: message) and exits 2 without serving; so does a bad command line.
 * With --json, stdout is JSON only: one object per line (`{"listening": ...}`, then each request's journal
 * entry), or for a scenario with problems exactly one object, `{"ok": false, "problems": [...]}`, the control
 * API's 400 body.
 * --admin-token (or HOLDLINE_FAKE_ADMIN_TOKEN) makes the control API want `Authorization: Bearer <token>`; the
 * token is never printed.
 */
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile, problemsBody, ScenarioError } from '../../contract/scenario/load.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { describeAccount } from './quota/quota.js';
import { describeRules } from './rules/rule.js';
import { formatEntry } from './log-line.js';
import { startRecorder } from './record/proxy.js';
import { toScenarioYaml } from './record/to-scenario.js';
import { startFake } from './server.js';
import { clockAddressProblem } from '../../contract/time/link.js';
import { CLOCK_TOKEN_ENV, SharedClock } from '../../contract/time/shared-clock.js';

const USAGE = [
  'usage: holdline-fake --scenario <name or path> [--port 4010] [--host 127.0.0.1] [--speed 1 | --clock HOST:PORT] [--json] [--admin-token <token>]',
  '       holdline-fake --record <out.yaml> --upstream <base url> [--keep-content] [--seed 1] [--port 4010] [--host 127.0.0.1]',
  '       (in the repository: npm run fake -- ...)',
].join('\n');
const EXIT_USAGE = 2;

interface CliOptions {
  scenario: string;
  port: number;
  host: string;
  speed: number;
  json: boolean;
  adminToken?: string;
  /** The runner's virtual clock to join: `127.0.0.1:PORT` (process stack), `holdline-clock:PORT` (in a container). */
  clock?: string;
}

interface RecordOptions {
  out: string;
  upstream: string;
  keepContent: boolean;
  seed: number;
  port: number;
  host: string;
}

function usageError(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(EXIT_USAGE);
}

function readOptions(argv: string[]): CliOptions | RecordOptions {
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        scenario: { type: 'string' },
        port: { type: 'string', default: '4010' },
        host: { type: 'string', default: '127.0.0.1' },
        speed: { type: 'string', default: '1' },
        clock: { type: 'string' },
        json: { type: 'boolean', default: false },
        'admin-token': { type: 'string' },
        record: { type: 'string' },
        upstream: { type: 'string' },
        'keep-content': { type: 'boolean' },
        seed: { type: 'string', default: '1' },
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
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) usageError(`--port must be an integer 0-65535, got ${String(values.port)}`);
  if (values.record !== undefined) return recordOptions(values, port);
  const scenario = values.scenario;
  if (typeof scenario !== 'string' || scenario === '') usageError('missing --scenario');
  const speed = Number(values.speed);
  if (!(speed > 0) || !Number.isFinite(speed)) usageError(`--speed must be a positive number, got ${String(values.speed)}`);
  const adminToken = (values['admin-token'] as string | undefined) ?? (process.env.HOLDLINE_FAKE_ADMIN_TOKEN || undefined);
  if (adminToken !== undefined && adminToken.trim() === '') usageError('--admin-token must not be empty');
  const clock = values.clock === undefined ? undefined : String(values.clock);
  const clockProblem = clock === undefined ? undefined : clockAddressProblem(clock);
  if (clockProblem) usageError(clockProblem);
  return { scenario, port, speed, host: String(values.host), json: values.json === true, ...(adminToken !== undefined && { adminToken }), ...(clock && { clock }) };
}

function recordOptions(values: Record<string, string | boolean | undefined>, port: number): RecordOptions {
  const out = String(values.record);
  if (out === '' || !/\.ya?ml$/.test(out)) usageError(`--record needs a .yaml file to write, got ${JSON.stringify(out)}`);
  if (values.scenario !== undefined) usageError('--record and --scenario exclude each other');
  const upstream = values.upstream;
  if (typeof upstream !== 'string' || !/^https?:\/\/[^\s]+$/.test(upstream)) usageError('--record needs --upstream <base url>, e.g. https://openrouter.ai/api/v1');
  const seed = Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0) usageError(`--seed must be a whole number, got ${String(values.seed)}`);
  return { out, upstream, keepContent: values['keep-content'] === true, seed, port, host: String(values.host) };
}

async function record(options: RecordOptions): Promise<void> {
  const recorder = await startRecorder({ upstream: options.upstream, port: options.port, host: options.host, keepContent: options.keepContent }).catch(
    (err: unknown) => {
      console.error(`cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
      process.exit(1);
    },
  );
  console.log(`recording ${options.upstream} into ${options.out}${options.keepContent ? ' (with message contents)' : ''}; Ctrl-C writes it`);
  console.log(`OPENROUTER_BASE_URL=${recorder.baseURL}`);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    void recorder.close().then(() => {
      const recorded = recorder.recorded();
      const name = basename(options.out).replace(/\.ya?ml$/, '').toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+/, '') || 'recorded';
      const description = `Recorded from ${new URL(options.upstream).host}: ${recorded.length} chat request(s), replayed as the upstream answered them.`;
      writeFileSync(options.out, toScenarioYaml(recorded, { name, description, seed: options.seed, keepContent: options.keepContent }));
      console.log(`${signal.toLowerCase()}: wrote ${options.out} (${recorded.length} request(s))`);
      process.exit(0);
    });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

function loadOrExit(nameOrPath: string, json: boolean): Scenario {
  try {
    return loadScenarioFile(resolveScenario(nameOrPath));
  } catch (err) {
    if (!(err instanceof ScenarioError)) throw err;
    console.error(err.message);
    if (json) console.log(JSON.stringify(problemsBody(err)));
    process.exit(EXIT_USAGE);
  }
}

/** The runner's clock went away (or refused this process): time cannot move here any more, so stop. */
function lostClock(): never {
  console.error('the virtual clock this fake joined (--clock) closed its link: stopping');
  process.exit(1);
}

async function main(): Promise<void> {
  const options = readOptions(process.argv.slice(2));
  if ('out' in options) return record(options);
  const scenario = loadOrExit(options.scenario, options.json);
  const { port, host, speed, adminToken } = options;
  // Joined before anything listens or connects: the shared clock must see every socket (contract/time/quiet.ts).
  const clock = options.clock ? await SharedClock.connect(options.clock, 'fake', process.env[CLOCK_TOKEN_ENV] ?? '', lostClock) : undefined;
  const fake = await startFake({ scenario, port, host, speed, ...(clock && { clock }), ...(adminToken !== undefined && { adminToken }) }).catch((err: unknown) => {
    console.error(`cannot listen on ${options.host}:${options.port}: ${(err as Error).message}`);
    process.exit(1);
  });

  if (options.json) {
    console.log(JSON.stringify({ listening: fake.url, baseURL: fake.baseURL, scenario: scenario.name, seed: scenario.seed, speed: clock ? 'virtual' : options.speed }));
    fake.events.on('closed', (entry) => console.log(JSON.stringify(entry)));
  } else {
    console.log(`fake openrouter: scenario ${scenario.name} (seed ${scenario.seed}), ${clock ? 'on the runner\'s virtual time' : `speed ${options.speed}`}`);
    console.log(`OPENROUTER_BASE_URL=${fake.baseURL}`);
    for (const line of describeRules(scenario)) console.log(`  ${line}`);
    console.log(`  ${describeAccount(scenario.fake.account)}`);
    fake.events.on('closed', (entry) => console.log(formatEntry(entry)));
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    // stdout stays JSON with --json
    (options.json ? console.error : console.log)(`${signal.toLowerCase()}: closing`);
    void fake.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

await main();

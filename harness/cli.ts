/**
 * `npm run scenario -- <name> [--speed N] [--json] [--report out.html]`: rehearses one outage end to end and
 * says whether the caller heard what the scenario expects. See cli/args.ts for the options and exit codes.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { libraryNames, resolveScenario } from '../contract/scenario/library.js';
import { loadScenarioFile, ScenarioError } from '../contract/scenario/load.js';
import type { Scenario } from '../contract/scenario/schema.js';
import { parseCommand, USAGE } from './cli/args.js';
import { listLibrary } from './cli/list.js';
import { htmlReport } from './report/html.js';
import { textTimeline } from './report/text.js';
import { toJson, type ResultJson } from './result.js';
import { runScenario } from './run.js';
import { chooseStack, fleetStackChoice } from './stack/choose.js';
import { processStack } from './stack/processes.js';
import { StartError } from '../tools/kit/start-error.js';

/** The agent's output line for an `AgentModuleError` (src/rehearsal/agent-module.ts). */
const AGENT_MODULE_PROBLEM = /^\s*\| agent module .+: /m;

export const EXIT = { passed: 0, failed: 1, usage: 2, rig: 3, interrupted: 130 } as const;

async function main(): Promise<number> {
  const command = parseCommand(process.argv.slice(2), process.env);
  switch (command.kind) {
    case 'help':
      console.log(USAGE);
      return EXIT.passed;
    case 'usage':
      console.error(`${command.message}\n\n${USAGE}`);
      return EXIT.usage;
    case 'list': {
      const { lines, problems } = listLibrary();
      for (const line of lines) console.log(line);
      for (const problem of problems) console.error(problem);
      return problems.length > 0 ? EXIT.usage : EXIT.passed;
    }
    case 'run':
      return run(command);
  }
}

async function run(command: Extract<ReturnType<typeof parseCommand>, { kind: 'run' }>): Promise<number> {
  const label = 'name' in command.target ? command.target.name : command.target.file;
  const say = (exit: number, message: string, failures: string[] = [message]): number => {
    console.error(message);
    if (command.json) printJson({ scenario: label, passed: false, speed: command.speed, spoken: [], requests: [], failures, timing: { clock: 'wall', stallMs: 0, explained: [] } });
    return exit;
  };

  const file = resolveScenario(label);
  if ('name' in command.target && !existsSync(file)) {
    return say(EXIT.usage, `no scenario named ${JSON.stringify(label)} in the library; these are: ${libraryNames().join(', ')}`);
  }
  let scenario: Scenario;
  try {
    scenario = loadScenarioFile(file);
  } catch (error) {
    if (!(error instanceof ScenarioError)) throw error;
    return say(EXIT.usage, error.message, error.message.split('\n'));
  }

  if (command.redis && scenario.agent.env.REDIS_URL !== undefined) {
    return say(EXIT.usage, `--redis starts a Redis for the rehearsal and sets REDIS_URL itself, and ${scenario.name}'s agent.env sets one: drop --redis or that variable`);
  }
  scenario = withFleetOptions(scenario, command);
  const fleetChoice = fleetStackChoice(scenario, command.stack, command.stackDefaulted);
  const virtual = command.virtual;
  if ('problem' in fleetChoice) return say(EXIT.usage, fleetChoice.problem);

  const agentModule = command.agent === undefined ? undefined : resolve(command.agent);
  if (agentModule !== undefined && !existsSync(agentModule)) return say(EXIT.usage, `--agent: no such file: ${command.agent}`);
  if (agentModule && command.stack === 'containers') return say(EXIT.usage, '--agent runs your module on this machine: use --stack processes (or auto)');

  const interrupt = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    if (interrupt.signal.aborted) process.exit(EXIT.interrupted); // a second Ctrl-C: leave now (children die with us)
    console.error(`\n${signal}: stopping every service...`);
    interrupt.abort(new Error(signal));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  try {
    // An agent module runs from this machine's files (its own imports, its own node_modules), so on processes.
    const chosen = agentModule && command.stack !== 'inline'
      ? { stack: processStack(), note: `--stack ${command.stack}: child processes, because --agent runs your module from this machine's files` }
      : fleetChoice.note
        ? { stack: processStack({ virtual }), note: `${fleetChoice.note}${virtual ? ", on the runner's virtual time" : ''}` }
        : await chooseStack(fleetChoice.choice, undefined, '--stack', { virtual }).catch((error: Error) => {
            throw new StartError(error.message);
          });
    console.error(`· stack: ${chosen.note}`);
    const result = await runScenario(scenario, file, {
      stack: chosen.stack,
      speed: command.speed,
      signal: interrupt.signal,
      ...(agentModule && { agentModule }),
      progress: (line) => console.error(`· ${line}`),
      onStarted: (running) => {
        const pids = Object.entries(running.pids);
        if (pids.length > 0) console.error(`· pids: ${pids.map(([name, pid]) => `${name} ${pid}`).join(', ')}`);
      },
    });
    if (command.report) {
      writeFileSync(command.report, htmlReport(result));
      console.error(`· report written to ${command.report}`);
    }
    if (command.json) printJson(toJson(result));
    else console.log(textTimeline(result));
    return result.passed ? EXIT.passed : EXIT.failed;
  } catch (error) {
    if (interrupt.signal.aborted) return say(EXIT.interrupted, `interrupted (${(interrupt.signal.reason as Error).message}): every service was stopped`);
    // A module that breaks the contract is the caller's to fix, like a bad scenario file (the agent printed why).
    if (error instanceof StartError && AGENT_MODULE_PROBLEM.test(error.message)) return say(EXIT.usage, `could not start the rehearsal: ${error.message}`);
    if (error instanceof StartError) return say(EXIT.rig, `could not start the rehearsal: ${error.message}`);
    return say(EXIT.rig, `the rehearsal failed: ${(error as Error).message}`);
  }
}

/** `--calls N` and `--redis` over the scenario's own `calls` and `agent.redis` (a scenario's Redis outage stays). */
function withFleetOptions(scenario: Scenario, command: { calls?: number; redis: boolean }): Scenario {
  return {
    ...scenario,
    calls: command.calls ?? scenario.calls,
    agent: { ...scenario.agent, redis: command.redis && scenario.agent.redis === false ? {} : scenario.agent.redis },
  };
}

function printJson(json: ResultJson): void {
  console.log(JSON.stringify(json));
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(EXIT.rig);
  },
);

#!/usr/bin/env node
/**
 * `holdline`, the installed package's command line (in this repository the npm scripts do the same):
 *   holdline scenario <name> [--agent ./my-agent.ts] [--speed N] [--json] [--report out.html]   = npm run scenario -- ...
 *   holdline fake --scenario <name or file> [--port 4010] [--host 127.0.0.1] [--speed 1]        = npm run fake -- ...
 */
const USAGE = `usage: holdline scenario <name> [--agent ./my-agent.ts] [--speed N] [--json] [--report out.html]
       holdline scenario --help
       holdline fake --scenario <name or file.yaml> [--port 4010] [--host 127.0.0.1] [--speed 1]`;

const [command] = process.argv.splice(2, 1);
if (command === 'scenario') await import('./cli.js');
else if (command === 'fake') await import('../fakes/openrouter/cli.js');
else {
  const help = command === '--help' || command === '-h';
  (help ? console.log : console.error)(help ? USAGE : `${command === undefined ? 'missing command' : `unknown command ${JSON.stringify(command)}`}\n${USAGE}`);
  process.exitCode = help ? 0 : 2;
}

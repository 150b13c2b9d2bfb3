/**
 * Checks for the programs a llama-server build needs, so a missing one fails in a second with the Debian
 * packages to install instead of minutes later inside cmake.
 */
import { probe } from '../../kit/run-command.js';

interface Tool {
  /** Commands tried in order; the first that runs counts. */
  commands: string[];
  /** Debian package providing it. */
  debian: string;
}

const TOOLS: Tool[] = [
  { commands: ['cmake'], debian: 'cmake' },
  { commands: ['make'], debian: 'make' },
  { commands: ['c++', 'g++'], debian: 'g++' },
  { commands: ['cc', 'gcc'], debian: 'gcc' },
  { commands: ['git'], debian: 'git' },
];

/** @throws Error naming what is missing and the `apt-get install` line that provides it. */
export async function checkToolchain(): Promise<void> {
  const missing: Tool[] = [];
  for (const tool of TOOLS) {
    let found = false;
    for (const command of tool.commands) {
      if ((await probe(command, ['--version'])) !== undefined) {
        found = true;
        break;
      }
    }
    if (!found) missing.push(tool);
  }
  if (missing.length === 0) return;
  const names = missing.map((tool) => tool.commands[0]).join(', ');
  const packages = [...new Set(missing.map((tool) => tool.debian))].join(' ');
  throw new Error(
    `Building llama-server needs cmake, make, a C/C++ compiler and git; missing: ${names}. ` +
      `On Debian/Ubuntu: \`apt-get install ${packages}\` (for all of them: \`apt-get install cmake g++ git\`). ` +
      'Or point LLAMA_SERVER_BIN at an existing llama-server binary.',
  );
}

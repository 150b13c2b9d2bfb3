/** `--list`: the library, one scenario a line with its description. */
import { libraryNames, resolveScenario, SCENARIO_DIR } from '../../contract/scenario/library.js';
import { loadScenarioFile, ScenarioError } from '../../contract/scenario/load.js';

export interface Listing {
  lines: string[];
  /** Files that do not load, one problem a line (file:line:col key: message). */
  problems: string[];
}

export function listLibrary(dir = SCENARIO_DIR): Listing {
  const names = libraryNames(dir);
  const width = Math.max(0, ...names.map((n) => n.length)) + 2;
  const lines: string[] = [];
  const problems: string[] = [];
  for (const name of names) {
    try {
      const scenario = loadScenarioFile(resolveScenario(name, dir));
      lines.push(`${name.padEnd(width)}${scenario.description}`);
    } catch (error) {
      if (!(error instanceof ScenarioError)) throw error;
      problems.push(...error.message.split('\n'));
    }
  }
  return { lines, problems };
}

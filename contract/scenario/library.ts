/** Where scenarios live and how a name or a path becomes a file. */
import { readdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SCENARIO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../scenarios');

/** Names of the scenarios in the library, sorted. */
export function libraryNames(dir = SCENARIO_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -'.yaml'.length))
    .sort();
}

/** A library name (`rate-limit-storm`) or a path (`./my.yaml`) to an absolute file path. */
export function resolveScenario(nameOrPath: string, dir = SCENARIO_DIR): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) {
    return isAbsolute(nameOrPath) ? nameOrPath : resolve(process.cwd(), nameOrPath);
  }
  return join(dir, `${nameOrPath}.yaml`);
}

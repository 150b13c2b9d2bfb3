/** Checks on the Dockerfile and .dockerignore, same contract as checks.ts: a list of problems, empty when fine. */

export interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions with continuation lines joined and comments dropped. */
export function dockerInstructions(text: string): Instruction[] {
  const logical: string[] = [];
  let current = '';
  for (const line of text.split('\n')) {
    if (/^\s*#/.test(line)) continue;
    if (line.trimEnd().endsWith('\\')) {
      current += `${line.trimEnd().slice(0, -1)} `;
      continue;
    }
    current += line;
    if (current.trim() !== '') logical.push(current.trim());
    current = '';
  }
  if (current.trim() !== '') logical.push(current.trim());
  return logical.map((l) => {
    const [keyword = '', ...rest] = l.split(/\s+/);
    return { keyword: keyword.toUpperCase(), args: rest.join(' ') };
  });
}

/** The final stage's instructions (everything after the last FROM). */
function finalStage(instructions: Instruction[]): Instruction[] {
  const lastFrom = instructions.map((i) => i.keyword).lastIndexOf('FROM');
  return instructions.slice(lastFrom);
}

/** The arguments of an exec-form (JSON array) CMD/HEALTHCHECK CMD, or the shell form split on spaces. */
export function execArgs(args: string): string[] {
  const json = args.replace(/^(--\S+\s+)*CMD\s+/, '');
  try {
    const parsed: unknown = JSON.parse(json);
    if (Array.isArray(parsed)) return parsed.map(String);
  } catch {
    // shell form
  }
  return json.split(/\s+/);
}

/** Names set by ENV/ARG arguments: `A=1 B=2`, the legacy `A 1`, or `ARG A`. */
function variableNames(args: string): string[] {
  const pairs = [...args.matchAll(/(?:^|\s)([A-Za-z_]\w*)=/g)].map((m) => m[1] ?? '');
  return pairs.length > 0 ? pairs : [args.split(/\s+/)[0] ?? ''];
}

export function dockerfileProblems(text: string, base = 'node:20-bookworm-slim'): string[] {
  const all = dockerInstructions(text);
  const problems: string[] = [];
  all
    .filter((i) => i.keyword === 'FROM')
    .forEach((i, n) => {
      const image = i.args.split(/\s+/)[0];
      if (image !== base) problems.push(`stage ${n + 1} is FROM ${image}; expected ${base}`);
    });
  const runs = all.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  if (!runs.some((r) => /\bnpm ci\b/.test(r))) problems.push('no RUN npm ci: dependencies must come from the lockfile');
  for (const r of runs.filter((r) => /\bnpm (install|i|add)\b/.test(r))) {
    problems.push(`RUN ${r}: use npm ci, which installs exactly the lockfile`);
  }
  for (const i of all.filter((i) => i.keyword === 'ENV' || i.keyword === 'ARG')) {
    for (const name of variableNames(i.args)) {
      if (/(KEY|SECRET|TOKEN|PASSWORD)$/.test(name)) {
        problems.push(`${i.keyword} ${name} bakes a secret into the image; pass it at run time (env_file)`);
      }
    }
  }
  const final = finalStage(all);
  const user = final.filter((i) => i.keyword === 'USER').pop()?.args.split(':')[0];
  if (user === undefined) problems.push('the final stage has no USER: the container would run as root');
  else if (user === 'root' || user === '0') problems.push(`the final stage runs as root (USER ${user})`);
  if (!final.some((i) => i.keyword === 'HEALTHCHECK')) problems.push('the final stage has no HEALTHCHECK');
  return problems;
}

/** The final stage's default command as arguments. */
export function defaultCommand(text: string): string[] {
  const cmd = finalStage(dockerInstructions(text))
    .filter((i) => i.keyword === 'CMD')
    .pop();
  return cmd ? execArgs(cmd.args) : [];
}

/** The final stage's HEALTHCHECK command as arguments. */
export function healthcheckCommand(text: string): string[] {
  const hc = finalStage(dockerInstructions(text))
    .filter((i) => i.keyword === 'HEALTHCHECK')
    .pop();
  return hc ? execArgs(hc.args) : [];
}

export function dockerignoreProblems(text: string): string[] {
  const patterns = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const problems: string[] = [];
  if (!patterns.includes('.env')) problems.push('.dockerignore does not exclude .env: `COPY . .` would bake secrets into the image');
  if (!patterns.includes('node_modules')) {
    problems.push('.dockerignore does not exclude node_modules: the image must install its own with npm ci');
  }
  return problems;
}

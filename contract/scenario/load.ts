/**
 * Reading a scenario file: YAML -> schema -> `Scenario`, or a `ScenarioError` carrying one line per problem,
 * each naming file, line, column and key path:
 *   scenarios/x.yaml:7:15 fake.rules[0].then.retryAfter: expected a duration like "2s", got 2
 * Nothing is half-loaded: either every check passes or the caller gets every problem at once.
 */
import { basename, extname, relative } from 'node:path';
import { isMap, isNode, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import type { z } from 'zod';
import { describeValue } from '../duration.js';
import { checkExpansion, SCENARIO_MAX_BYTES, tooLargeMessage, YAML_MAX_ALIAS_COUNT } from './bounds.js';
import { readScenarioText } from './read.js';
import { scenarioSchema, type Scenario } from './schema.js';

export interface ScenarioProblem {
  file: string;
  line: number;
  column: number;
  /** Key path as written in messages: `fake.rules[0].then.retryAfter`; empty for the document itself. */
  path: string;
  message: string;
}

export class ScenarioError extends Error {
  constructor(readonly problems: ScenarioProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.name = 'ScenarioError';
  }
}

export function formatProblem(p: ScenarioProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

/** Every problem as data and as its line: the control API's 400 body and the CLIs' `--json` object. */
export function problemsBody(err: ScenarioError): { ok: false; problems: (ScenarioProblem & { text: string })[] } {
  return { ok: false, problems: err.problems.map((p) => ({ ...p, text: formatProblem(p) })) };
}

/** A key written bare in a path; any other (a space, a dot, a line break, empty) is quoted: `headers["bad name"]`. */
const BARE_KEY = /^[A-Za-z0-9_$\-/:*?]+$/;

/** Renders a path the way a person reads YAML: `a.b[0].c`; always one line, however odd the keys. */
export function formatPath(path: readonly PropertyKey[]): string {
  return path
    .map((key, i) => {
      if (typeof key === 'number') return `[${key}]`;
      const text = String(key);
      return BARE_KEY.test(text) ? `${i === 0 ? '' : '.'}${text}` : `[${describeValue(text)}]`;
    })
    .join('');
}

/**
 * Parses scenario text. `file` is how the file is named in messages; `expectedName`, when given, must equal
 * the scenario's `name` (files in the library are named after their scenario).
 */
export function parseScenario(text: string, file: string, expectedName?: string): Scenario {
  const bytes = Buffer.byteLength(text);
  if (bytes > SCENARIO_MAX_BYTES) {
    throw new ScenarioError([{ file, line: 1, column: 1, path: '', message: tooLargeMessage(bytes) }]);
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number) => lineCounter.linePos(offset);

  const yamlProblems = [...doc.errors].map((err): ScenarioProblem => {
    const { line, col } = at(err.pos[0]);
    return { file, line, column: col, path: '', message: firstLine(err.message) };
  });
  if (yamlProblems.length > 0) throw new ScenarioError(yamlProblems);

  const tooBig = checkExpansion(doc);
  if (tooBig) {
    const { line, col } = at(tooBig.offset);
    throw new ScenarioError([{ file, line, column: col, path: '', message: tooBig.message }]);
  }
  let raw: unknown;
  try {
    raw = doc.toJS({ maxAliasCount: YAML_MAX_ALIAS_COUNT });
  } catch (err) {
    // yaml throws (rather than reports) for an alias without an anchor and for its own alias guard.
    throw new ScenarioError([{ file, line: 1, column: 1, path: '', message: firstLine((err as Error).message) }]);
  }
  const result = scenarioSchema.safeParse(raw);
  const problems: ScenarioProblem[] = result.success ? [] : result.error.issues.flatMap((issue) => toProblems(issue, doc, file, at));

  if (result.success && expectedName !== undefined && result.data.name !== expectedName) {
    problems.push(problemAt(doc, file, at, ['name'], `expected "${expectedName}" (the file's name), got ${describeValue(result.data.name)}`));
  }
  if (problems.length > 0) throw new ScenarioError(sortProblems(problems));
  return (result as { data: Scenario }).data;
}

/** Reads and parses a scenario file; the file's base name must equal the scenario's `name`. */
export function loadScenarioFile(path: string, cwd = process.cwd()): Scenario {
  const shown = relative(cwd, path) || path;
  const read = readScenarioText(path);
  if ('problem' in read) throw new ScenarioError([{ file: shown, line: 1, column: 1, path: '', message: read.problem }]);
  return parseScenario(read.text, shown, basename(path, extname(path)));
}

function firstLine(message: string): string {
  return message.split('\n')[0] ?? message;
}

type Position = (offset: number) => { line: number; col: number };

function toProblems(issue: z.core.$ZodIssue, doc: Document, file: string, at: Position): ScenarioProblem[] {
  const path = issue.path as PropertyKey[];
  if (issue.code === 'unrecognized_keys') {
    return issue.keys.map((key) => problemAt(doc, file, at, [...path, key], 'unknown key', { keyPosition: true }));
  }
  if (issue.code === 'invalid_key') {
    // A record's key failed its own schema (a header name): say why, pointed at the key.
    const inner = issue.issues[0];
    return [problemAt(doc, file, at, path, inner?.message ?? issue.message, { keyPosition: true })];
  }
  if (issue.code === 'invalid_union' && 'errors' in issue && issue.errors.length > 0 && issue.message === 'Invalid input') {
    // zod's generic union message says nothing; the most specific branch usually does.
    const deepest = issue.errors.flat().sort((a, b) => b.path.length - a.path.length)[0];
    if (deepest) return toProblems({ ...deepest, path: [...path, ...deepest.path] } as z.core.$ZodIssue, doc, file, at);
  }
  return [problemAt(doc, file, at, path, messageFor(issue, doc, path))];
}

function messageFor(issue: z.core.$ZodIssue, doc: Document, path: PropertyKey[]): string {
  const value = doc.getIn(path as (string | number)[]);
  const present = doc.hasIn(path as (string | number)[]);
  switch (issue.code) {
    case 'invalid_type':
      if (!present) return 'required';
      return `expected ${article(issue.expected)}, got ${describeValue(toPlain(value))}`;
    case 'too_small':
      if (issue.origin === 'array') return issue.message.startsWith('Too small') ? `expected at least ${issue.minimum} item(s)` : issue.message;
      if (issue.origin === 'string') return issue.message.startsWith('Too small') ? 'expected a non-empty string' : issue.message;
      if (!issue.message.startsWith('Too small')) return issue.message;
      // `.positive()` is an exclusive bound: "at least 0" would contradict the rejected 0.
      return `expected ${issue.inclusive === false ? 'more than' : 'at least'} ${issue.minimum}, got ${describeValue(toPlain(value))}`;
    case 'too_big':
      if (!issue.message.startsWith('Too big')) return issue.message;
      return `expected ${issue.inclusive === false ? 'less than' : 'at most'} ${issue.maximum}, got ${describeValue(toPlain(value))}`;
    default:
      return issue.message;
  }
}

function article(type: string): string {
  return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

function toPlain(value: unknown): unknown {
  return isNode(value) ? (value as Node).toJSON() : value;
}

/**
 * Locates a key path in the YAML document. For a value, the value's start; for a missing key, its parent
 * object; with `keyPosition`, the key itself (unknown keys are pointed at where they are written).
 */
function problemAt(
  doc: Document,
  file: string,
  at: Position,
  path: PropertyKey[],
  message: string,
  options: { keyPosition?: boolean } = {},
): ScenarioProblem {
  let offset = 0;
  let node: unknown = doc.contents;
  for (let i = 0; i < path.length; i++) {
    const key = path[i];
    if (isMap(node)) {
      const pair = node.items.find((p) => (isScalar(p.key) ? p.key.value : p.key) === key);
      if (!pair) break;
      const isLast = i === path.length - 1;
      const target = isLast && options.keyPosition ? pair.key : (pair.value ?? pair.key);
      if (isNode(target) && target.range) offset = target.range[0];
      node = pair.value;
    } else if (isSeq(node) && typeof key === 'number') {
      const item = node.items[key];
      if (isNode(item) && item.range) offset = item.range[0];
      node = item;
    } else {
      break;
    }
  }
  if (offset === 0 && isNode(doc.contents) && doc.contents.range) offset = doc.contents.range[0];
  const { line, col } = at(offset);
  return { file, line, column: col, path: formatPath(path), message };
}

function sortProblems(problems: ScenarioProblem[]): ScenarioProblem[] {
  return [...problems].sort((a, b) => a.line - b.line || a.column - b.column);
}

/** Reading a child's output line by line while keeping its last lines for error messages. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

export interface FollowOptions {
  /** Lines kept (the oldest go first). Default 30. */
  keep?: number;
  /** Applied to every line before anything keeps or sees it (masks secrets). */
  redact?: (line: string) => string;
}

/**
 * Calls `onLine` with each line the child prints (stdout and stderr) and returns an array holding the last
 * `keep` lines, updated as they arrive. However long the child runs, the array never holds more.
 */
export function followOutput(child: ChildProcess, onLine?: (line: string) => void, options: FollowOptions = {}): string[] {
  const { keep = 30, redact } = options;
  const tail: string[] = [];
  const take = (raw: string): void => {
    const line = redact ? redact(raw) : raw;
    tail.push(line);
    if (tail.length > keep) tail.shift();
    onLine?.(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', take);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', take);
  return tail;
}

/** The tail as an indented block for an error message ("" when the child printed nothing). */
export function outputBlock(heading: string, lines: readonly string[]): string {
  return lines.length === 0 ? '' : `\n${heading}:\n${lines.map((line) => `  | ${line}`).join('\n')}`;
}

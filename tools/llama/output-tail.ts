/** Reading a child's output line by line while keeping its last lines for error messages. */
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Calls `onLine` with each line the child prints (stdout and stderr) and returns an array holding the last
 * `keep` lines (default 30), updated as they arrive.
 */
export function followOutput(child: ChildProcess, onLine?: (line: string) => void, keep = 30): string[] {
  const tail: string[] = [];
  const take = (line: string): void => {
    tail.push(line);
    if (tail.length > keep) tail.shift();
    onLine?.(line);
  };
  if (child.stdout) createInterface({ input: child.stdout }).on('line', take);
  if (child.stderr) createInterface({ input: child.stderr }).on('line', take);
  return tail;
}

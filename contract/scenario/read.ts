/**
 * Reading a scenario file without trusting the path: only a regular file, and only up to the size limit.
 * A FIFO would block the open (and the CLI) forever, `/dev/zero` or `/dev/urandom` would be read until memory
 * runs out, a directory has no text. Opening non-blocking and checking the opened descriptor (not the path, which
 * may change in between) refuses all of them at once.
 */
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from 'node:fs';
import { SCENARIO_MAX_BYTES, tooLargeMessage } from './bounds.js';

export type ReadResult = { text: string } | { problem: string };

export function readScenarioText(path: string): ReadResult {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { problem: code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'not readable (permission denied)' : `cannot open (${code ?? 'error'})` };
  }
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) return { problem: `not a regular file (${kindOf(stats)}); a scenario is a .yaml file` };
    if (stats.size > SCENARIO_MAX_BYTES) return { problem: tooLargeMessage(stats.size) };
    // The size may change while reading (or lie, as in /proc): read at most one byte past the limit.
    const buffer = Buffer.alloc(SCENARIO_MAX_BYTES + 1);
    let length = 0;
    for (let n; length < buffer.length && (n = readSync(fd, buffer, length, buffer.length - length, null)) > 0; ) length += n;
    if (length > SCENARIO_MAX_BYTES) return { problem: tooLargeMessage() };
    return { text: buffer.toString('utf8', 0, length) };
  } catch (err) {
    return { problem: `cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})` };
  } finally {
    closeSync(fd);
  }
}

function kindOf(stats: Stats): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a file';
}

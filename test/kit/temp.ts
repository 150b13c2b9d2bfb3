/** Scratch folders for test files: each is removed when its file's tests are done, pass or fail. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

/**
 * A fresh folder under the system's temp folder (`holdline-<name>-XXXXXX`), removed after the file's tests.
 * Call it at the top of a test file or inside a describe block (it registers an afterAll), not inside a test.
 */
export function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `holdline-${name}-`));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * Vitest global setup: the tests of the fleet's shared cooldowns need a real Redis (Debian's `redis-server`;
 * src/testing/redis-server.ts starts one per test file on a free loopback port). On a fresh Debian machine run
 * as root, as the README's quick start has it, it is installed here once (apt, about half a minute), the way
 * test/setup/llama.ts builds llama-server; anywhere else the tests that need it fail saying how to install it.
 * Only the package: nothing is started, and Debian's own service is not enabled where no init system runs.
 */
import { aptGet } from '../../tools/kit/apt.js';
import { existsSync } from 'node:fs';
import { configuredRedisBin } from '../../src/testing/redis-server.js';

export default async function setup(): Promise<void> {
  const bin = configuredRedisBin();
  if (existsSync(bin) || process.env.REDIS_SERVER_BIN !== undefined) return;
  const root = process.getuid?.() === 0;
  if (!root || !existsSync('/usr/bin/apt-get')) return;
  console.log('[redis] redis-server is missing: apt-get install -y --no-install-recommends redis-server (once per machine)');
  const started = Date.now();
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Another apt at the same moment (`containers:prepare` installing the engine, an upgrade) is waited for (aptGet).
  try {
    await aptGet(['install', '-y', '--no-install-recommends', 'redis-server'], { env });
  } catch {
    // An old package index: refresh it once and try again.
    await aptGet(['update', '-qq'], { env });
    await aptGet(['install', '-y', '--no-install-recommends', 'redis-server'], { env });
  }
  console.log(`[redis] installed in ${Math.round((Date.now() - started) / 1000)} s: ${bin}`);
}

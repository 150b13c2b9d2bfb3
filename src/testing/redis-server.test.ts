import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { PortTaken, startRedisServer, type RedisServer } from './redis-server.js';

const started: RedisServer[] = [];
afterEach(async () => {
  for (const server of started.splice(0)) await server.stop();
});

describe('startRedisServer (the harness\'s real Redis)', () => {
  it('a restart whose port another process took meanwhile says so, naming the port (not only the banner)', async () => {
    const redis = await startRedisServer();
    started.push(redis);
    await redis.kill(); // agent.redis.down: the rehearsal's Redis crashed
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(redis.port, '127.0.0.1', resolve));
    try {
      const restart = redis.restart();
      await expect(restart).rejects.toBeInstanceOf(PortTaken);
      await expect(restart).rejects.toThrow(`redis-server could not listen on 127.0.0.1:${redis.port}: another process took the port`);
    } finally {
      await new Promise((resolve) => squatter.close(resolve));
    }
    await redis.restart(); // the port is free again: it comes back on it
  });

  it('says when it died on its own, and not when the harness killed it (the scenario\'s down)', async () => {
    const redis = await startRedisServer();
    started.push(redis);
    await redis.kill(); // asked: SIGKILL, not a death of its own
    await redis.restart();
    process.kill(redis.pid as number, 'SIGTERM'); // from outside: redis-server shuts down, exit code 0
    expect(await redis.died).toBe('with code 0');
  });
});

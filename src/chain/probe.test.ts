import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.js';
import { backendsFrom } from './backends.js';
import { probeBackends } from './probe.js';
import { closedPort } from '../testing/ports.js';

let seenAuth: string[] = [];
const server = createServer((req, res) => {
  seenAuth.push(String(req.headers.authorization));
  res.writeHead(req.url === '/api/v1/models' ? 200 : 404, { 'content-type': 'application/json' }).end('{"data":[]}');
});
let base = '';
beforeAll(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('start-up probe', () => {
  it("asks OpenRouter's /models once for the whole chain (with the key) and the local /health", async () => {
    seenAuth = [];
    const config = loadConfig({
      OPENROUTER_API_KEY: 'sk-or-v1-probe',
      OPENROUTER_BASE_URL: `${base}/api/v1`,
      LLM_MODEL: 'a/one,b/two',
      LOCAL_LLM_BASE_URL: `http://127.0.0.1:${await closedPort()}/v1`,
    });
    const results = await probeBackends(config, backendsFrom(config));
    expect(results).toEqual([
      { backend: 'openrouter:a/one', reachable: true, status: 200, detail: '200 from /api/v1/models' },
      { backend: 'openrouter:b/two', reachable: true, status: 200, detail: '200 from /api/v1/models' },
      { backend: 'local', reachable: false, detail: 'unreachable (ECONNREFUSED)' },
    ]);
    expect(seenAuth).toEqual(['Bearer sk-or-v1-probe']);
  });
});


/**
 * A server for the benchmark, in its own process so the load generator does not share its event loop:
 *   serve.ts fake <scenario JSON>     the fake OpenRouter at speed 1
 *   serve.ts mockttp <body file>      mockttp answering POST /api/v1/chat/completions with the file's bytes
 * Prints one line, `{"url": ...}`, once listening; stops on SIGTERM.
 */
import { readFileSync } from 'node:fs';
import { pino } from 'pino';
import { parseScenario } from '../../contract/scenario/load.js';
import { startFake } from '../../fakes/openrouter/server.js';

const [kind, arg = ''] = process.argv.slice(2);
let stop: () => Promise<void>;
if (kind === 'fake') {
  const fake = await startFake({ scenario: parseScenario(arg, 'bench.yaml'), log: pino({ level: 'silent' }) });
  stop = fake.close;
  console.log(JSON.stringify({ url: fake.url }));
} else if (kind === 'mockttp') {
  // Imported here only: the fake's own process should not carry mockttp's modules and heap.
  const { getLocal } = await import('mockttp');
  const mock = getLocal();
  await mock.start();
  await mock.forPost('/api/v1/chat/completions').thenReply(200, readFileSync(arg, 'utf8'), { 'Content-Type': 'application/json' });
  stop = () => mock.stop();
  console.log(JSON.stringify({ url: mock.url }));
} else {
  console.error('usage: serve.ts fake <scenario JSON> | mockttp <body file>');
  process.exit(2);
}
process.on('SIGTERM', () => void stop().then(() => process.exit(0)));

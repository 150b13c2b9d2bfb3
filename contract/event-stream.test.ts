import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { readEvents } from './event-stream.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((done) => (server ? server.close(() => done()) : done())));

/** An SSE server answering each GET with `page(lastEventId)`; what each request asked is kept. */
async function sse(page: (lastEventId: string | undefined) => { text: string; end: boolean }): Promise<{ url: string; asked: (string | undefined)[] }> {
  const asked: (string | undefined)[] = [];
  server = createServer((req: IncomingMessage, res) => {
    const last = req.headers['last-event-id'] as string | undefined;
    asked.push(last);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const { text, end } = page(last);
    if (end) res.end(text);
    else res.write(text);
  });
  await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, asked };
}

const frame = (id: number) => `id: ${id}\ndata: ${JSON.stringify({ n: id })}\n\n`;

describe('reading the event stream', () => {
  it('follows a paged replay: after `event: more` it comes back with Last-Event-ID and misses nothing', async () => {
    const { url, asked } = await sse((last) => {
      const after = Number(last ?? 0);
      if (after < 4) return { text: `${frame(after + 1)}${frame(after + 2)}event: more\ndata: {"remaining":3}\n\n`, end: true };
      return { text: `: keep-alive\n\n${frame(5)}${frame(6)}`, end: false };
    });
    const seen: number[] = [];
    let done!: () => void;
    const all = new Promise<void>((resolve) => (done = resolve));
    const stream = readEvents<{ n: number }>(url, (e) => {
      seen.push(e.n);
      if (e.n === 6) done();
    });
    await all;
    stream.close();
    expect(seen).toEqual([1, 2, 3, 4, 5, 6]);
    expect(asked).toEqual([undefined, '2', '4']);
  });

  it('reports what the agent had forgotten, and fails when the stream ends without `more`', async () => {
    const { url } = await sse(() => ({ text: `event: dropped\ndata: {"dropped":7}\n\n${frame(8)}`, end: true }));
    const dropped: number[] = [];
    const seen: number[] = [];
    const stream = readEvents<{ n: number }>(url, (e) => seen.push(e.n), { onDropped: (n) => dropped.push(n) });
    await expect(stream.failed).rejects.toThrow('the agent closed its event stream');
    expect([dropped, seen]).toEqual([[7], [8]]);
  });
});

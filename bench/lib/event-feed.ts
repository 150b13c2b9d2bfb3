/**
 * The rehearsal agent's `GET /events` as a growing list one can wait on: every event since the agent's last
 * reset (the agent replays them, so subscribing late misses nothing), then live.
 */
import type { AgentEvent } from '../../contract/events.js';

/** `waitFor` gave up: nothing matched in time (as opposed to the stream ending). */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

export interface EventFeed {
  /** Every event received so far, in order. */
  readonly all: readonly AgentEvent[];
  /**
   * Resolves with the index of the first event at or after `from` that passes `test`; rejects after
   * `timeoutMs` wall ms with a `WaitTimeout` (saying what was seen), or when the stream ends first.
   * `test` sees the events in order, each once, so it may keep state.
   */
  waitFor(test: (event: AgentEvent, index: number) => boolean, options?: { from?: number; timeoutMs?: number }): Promise<number>;
  /** Forgets the events received so far (between turns, with nobody waiting), so a long run keeps no history. */
  clear(): void;
  close(): void;
}

interface Waiter {
  test: (event: AgentEvent, index: number) => boolean;
  from: number;
  resolve: (index: number) => void;
  reject: (error: Error) => void;
}

export function subscribeEvents(url: string): EventFeed {
  const all: AgentEvent[] = [];
  let waiters: Waiter[] = [];
  const abort = new AbortController();
  let ended: Error | undefined;

  const settle = (index: number) => {
    const event = all[index] as AgentEvent;
    for (const w of waiters) if (index >= w.from && w.test(event, index)) w.resolve(index);
  };
  const endAll = (error: Error) => {
    ended = error;
    for (const w of waiters) w.reject(error);
    waiters = [];
  };

  void (async () => {
    try {
      const res = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
      if (!res.ok || !res.body) throw new Error(`GET ${url} answered ${res.status}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let at: number;
        while ((at = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          const data = block.split('\n').find((line) => line.startsWith('data:'));
          if (!data) continue;
          all.push(JSON.parse(data.slice(5).trim()) as AgentEvent);
          settle(all.length - 1);
        }
      }
      endAll(new Error(`the event stream ${url} ended`));
    } catch (error) {
      endAll(abort.signal.aborted ? new Error('the event feed was closed') : (error as Error));
    }
  })();

  return {
    all,
    waitFor(test, { from = 0, timeoutMs = 30_000 } = {}) {
      for (let i = from; i < all.length; i++) if (test(all[i] as AgentEvent, i)) return Promise.resolve(i);
      if (ended) return Promise.reject(ended);
      return new Promise<number>((resolve, reject) => {
        const waiter: Waiter = {
          test,
          from,
          resolve: (index) => {
            clearTimeout(timer);
            waiters = waiters.filter((w) => w !== waiter);
            resolve(index);
          },
          reject: (error) => {
            clearTimeout(timer);
            reject(error);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          const seen = all.slice(from).map((e) => (e.type === 'state' ? `state:${e.to}` : e.type));
          reject(new WaitTimeout(`no matching event within ${timeoutMs} ms; saw ${seen.join(',') || 'nothing'}`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
    clear: () => {
      if (waiters.length > 0) throw new Error('clear() while someone waits on the feed');
      all.length = 0;
    },
    close: () => abort.abort(),
  };
}

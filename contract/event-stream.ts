/**
 * Reading the rehearsal agent's `GET /events` (server-sent events, one AgentEvent per `data:` frame, each with an
 * `id:`; comments such as `: keep-alive` ignored). The agent replays the events since its last reset to each new
 * subscriber, so a reader that connects late misses nothing; it sends a long history in pages (`event: more`, then
 * it closes), and this reader comes back after the last id it got (`Last-Event-ID`), as EventSource would.
 * `event: dropped` says how many events the agent's bounded history had already forgotten. Shared by the runner,
 * the benchmarks and the agent's tests.
 */
import type { AgentEvent } from './events.js';

export interface EventStream {
  /** Rejects if the stream cannot be read (never resolves). */
  failed: Promise<never>;
  close(): void;
}

export interface ReadOptions {
  /** Called with how many events the agent had forgotten before this reader asked for them. */
  onDropped?: (count: number) => void;
}

/** One SSE frame's fields (https://html.spec.whatwg.org/multipage/server-sent-events.html#event-stream-interpretation). */
interface SseFrame {
  event: string;
  data: string;
  id?: string;
}

export function readEvents<T>(url: string, onEvent: (event: T) => void, options: ReadOptions = {}): EventStream {
  const abort = new AbortController();
  let lastId: string | undefined;
  const failed = (async (): Promise<never> => {
    try {
      for (;;) {
        let more = false;
        const dispatch = (frame: SseFrame) => {
          if (frame.id !== undefined) lastId = frame.id;
          if (frame.event === 'more') more = true;
          else if (frame.event === 'dropped') options.onDropped?.((JSON.parse(frame.data) as { dropped: number }).dropped);
          else if (frame.event === 'message' && frame.data !== '') onEvent(JSON.parse(frame.data) as T);
        };
        const headers: Record<string, string> = { accept: 'text/event-stream', ...(lastId !== undefined && { 'last-event-id': lastId }) };
        const response = await fetch(url, { headers, signal: abort.signal });
        if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
        await readFrames(response.body as unknown as AsyncIterable<Uint8Array>, dispatch);
        if (!more) throw new Error(`the agent closed its event stream (${url})`);
      }
    } catch (error) {
      if (abort.signal.aborted) return new Promise<never>(() => {});
      throw error;
    }
  })();
  failed.catch(() => {});
  return { failed, close: () => abort.abort() };
}

async function readFrames(body: AsyncIterable<Uint8Array>, dispatch: (frame: SseFrame) => void): Promise<void> {
  const decoder = new TextDecoder();
  let buffer = '';
  let frame: SseFrame = { event: 'message', data: '' };
  let hasData = false;
  for await (const bytes of body) {
    buffer += decoder.decode(bytes, { stream: true });
    let newline: number;
    while ((newline = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, newline).replace(/\r$/, '');
      buffer = buffer.slice(newline + 1);
      if (line === '') {
        if (hasData || frame.event !== 'message') dispatch(frame);
        frame = { event: 'message', data: '' };
        hasData = false;
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'data') {
        frame.data = hasData ? `${frame.data}\n${value}` : value;
        hasData = true;
      } else if (field === 'event') frame.event = value;
      else if (field === 'id') frame.id = value;
    }
  }
}

/** `waitFor` gave up: nothing matched in time (as opposed to the stream ending). */
export class WaitTimeout extends Error {
  override name = 'WaitTimeout';
}

export interface EventFeed {
  /** Every event received so far, in order. */
  readonly all: readonly AgentEvent[];
  /** Events the agent had forgotten (its bounded history) before this feed asked for them; 0 in a rehearsal. */
  readonly dropped: number;
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

  let dropped = 0;
  const stream = readEvents<AgentEvent>(
    url,
    (event) => {
      all.push(event);
      settle(all.length - 1);
    },
    { onDropped: (count) => (dropped += count) },
  );
  stream.failed.catch((error: Error) => endAll(error));
  // readEvents ends quietly when closed; pending waits must still hear of it.
  const close = () => {
    stream.close();
    endAll(new Error('the event feed was closed'));
  };

  return {
    all,
    get dropped() {
      return dropped;
    },
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
    close,
  };
}

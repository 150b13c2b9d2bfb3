/**
 * A small server-sent-events reader for the agent's `GET /events`: one JSON object per `data:` line,
 * comments (`: keep-alive`) ignored. Nothing waits for the connection to open: the agent replays every event
 * since its last reset to each new subscriber, so none is missed however late the stream connects. (It does
 * not flush its response headers until the first event, so waiting for them would wait for that event.)
 */

export interface EventStream {
  /** Rejects if the stream cannot be read (never resolves). */
  failed: Promise<never>;
  close(): void;
}

export function readEvents<T>(url: string, onEvent: (event: T) => void): EventStream {
  const abort = new AbortController();
  const failed = (async (): Promise<never> => {
    try {
      const response = await fetch(url, { headers: { accept: 'text/event-stream' }, signal: abort.signal });
      if (!response.ok || !response.body) throw new Error(`GET ${url} answered ${response.status}`);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        buffer += decoder.decode(bytes, { stream: true });
        let newline: number;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line.startsWith('data:')) onEvent(JSON.parse(line.slice(5).trim()) as T);
        }
      }
      throw new Error(`the agent closed its event stream (${url})`);
    } catch (error) {
      if (abort.signal.aborted) return new Promise<never>(() => {});
      throw error;
    }
  })();
  failed.catch(() => {});
  return { failed, close: () => abort.abort() };
}

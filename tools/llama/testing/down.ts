/**
 * What "llama-server down" looks like to a client: nothing listens on the port, so every connection is
 * refused at once (ECONNREFUSED), before any HTTP happens. With the openai client (v6) a request rejects with
 * `APIConnectionError` ("Connection error."), whose `cause` is fetch's TypeError("fetch failed") with
 * `cause.code === 'ECONNREFUSED'`. A stopped LlamaServer's baseURL behaves the same way.
 */
import { freeLoopbackPort } from '../../kit/free-port.js';

/** An OpenAI-style base URL (`http://127.0.0.1:PORT/v1`) where nothing listens: a local model that is down. */
export async function downBaseURL(): Promise<string> {
  return `http://127.0.0.1:${await freeLoopbackPort()}/v1`;
}

/** True when `error` (or anything in its `cause` chain) is a refused connection. */
export function isConnectionRefused(error: unknown): boolean {
  if (!error || typeof error !== 'object') return false;
  const { code, cause, errors } = error as { code?: unknown; cause?: unknown; errors?: unknown };
  if (code === 'ECONNREFUSED') return true;
  // Node reports a host with several addresses as an AggregateError of one error per address.
  if (Array.isArray(errors) && errors.some(isConnectionRefused)) return true;
  return isConnectionRefused(cause);
}

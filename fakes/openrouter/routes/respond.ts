/** Writing a JSON answer, the one way every route and fault does it. */
import type { ServerResponse } from 'node:http';
import { errorBody, type OpenRouterError } from '../wire/errors.js';

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) });
  res.end(text);
}

/** OpenRouter's error JSON with `user_id` when the request was authenticated. */
export function sendError(res: ServerResponse, err: Pick<OpenRouterError, 'status' | 'message' | 'metadata' | 'headers'>, userId?: string): void {
  sendJson(res, err.status, errorBody(err, userId), err.headers);
}

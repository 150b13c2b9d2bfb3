/**
 * Reading an upstream answer as it passes through: SSE blocks into pieces (text, tool call starts, argument
 * pieces), the error event, [DONE]; or a whole JSON body. Pure functions over text and times.
 */
import type { Piece, RecordedExchange, WireError } from './recorded.js';

interface Delta {
  content?: string | null;
  tool_calls?: { index?: number; function?: { name?: string; arguments?: string } }[];
}

interface ChunkJson {
  provider?: string;
  error?: WireError;
  choices?: {
    delta?: Delta;
    message?: Delta & { tool_calls?: { function?: { name?: string; arguments?: string } }[] };
    finish_reason?: string | null;
    native_finish_reason?: string | null;
  }[];
}

/** Splits SSE text into whole blocks and the unfinished rest. */
export function sseBlocks(buffer: string): { blocks: string[]; rest: string } {
  const parts = buffer.split(/\r?\n\r?\n/);
  const rest = parts.pop() ?? '';
  return { blocks: parts.filter((b) => b !== ''), rest };
}

/** Applies one SSE block, received `atMs` after arrival, to the exchange being recorded. */
export function applyBlock(ex: RecordedExchange, block: string, atMs: number): void {
  if (block.startsWith(':')) return; // keep-alive comments: the replay makes its own
  const data = block
    .split(/\r?\n/)
    .filter((line) => line.startsWith('data:'))
    .map((line) => line.slice(5).trimStart())
    .join('\n');
  if (data === '') return;
  if (data === '[DONE]') {
    ex.ended = 'done';
    return;
  }
  let chunk: ChunkJson;
  try {
    chunk = JSON.parse(data) as ChunkJson;
  } catch {
    ex.ended = 'cut'; // a line that is not JSON: the client fails on it as on a cut
    return;
  }
  if (chunk.provider) ex.provider ??= chunk.provider;
  if (chunk.error) {
    ex.streamError = chunk.error;
    ex.ended = 'error-event';
    return;
  }
  const choice = chunk.choices?.[0];
  // A finish in failure without an error event (the failedFinish fault): the usage chunk repeats only a good finish.
  if (choice?.native_finish_reason === 'network_error') ex.failedFinish = 'network_error';
  else if (choice?.finish_reason === 'error' || choice?.native_finish_reason === 'error') ex.failedFinish ??= 'error';
  const delta = choice?.delta;
  if (!delta) return;
  if (delta.content) ex.pieces.push({ atMs, kind: 'text', text: delta.content });
  for (const call of delta.tool_calls ?? []) {
    const index = call.index ?? 0;
    if (call.function?.name) ex.pieces.push({ atMs, kind: 'call', index, name: call.function.name });
    if (call.function?.arguments) ex.pieces.push({ atMs, kind: 'arguments', index, text: call.function.arguments });
  }
}

/** Applies a whole non-stream JSON body, complete `atMs` after arrival. */
export function applyJsonBody(ex: RecordedExchange, text: string, atMs: number): void {
  let body: ChunkJson;
  try {
    body = JSON.parse(text) as ChunkJson;
  } catch {
    ex.ended = 'cut';
    return;
  }
  if (body.provider) ex.provider = body.provider;
  if (body.error) {
    ex.error = body.error;
    ex.ended = 'done';
    return;
  }
  const message = body.choices?.[0]?.message;
  const pieces: Piece[] = [];
  if (message?.content) pieces.push({ atMs, kind: 'text', text: message.content });
  (message?.tool_calls ?? []).forEach((call, index) => {
    pieces.push({ atMs, kind: 'call', index, name: call.function?.name ?? '' });
    if (call.function?.arguments) pieces.push({ atMs, kind: 'arguments', index, text: call.function.arguments });
  });
  ex.pieces.push(...pieces);
  ex.ended = 'done';
}

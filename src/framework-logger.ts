/**
 * LiveKit's agents framework logs through its own logger, which must exist before any LLM stream or session
 * is constructed. Ours (pino, observability/log.ts) tells the story; the framework's stays quiet unless asked
 * (`LK_LOG_LEVEL=debug`).
 */
import { initializeLogger } from '@livekit/agents';

let ready = false;

export function ensureFrameworkLogger(): void {
  if (ready) return;
  initializeLogger({ pretty: false, level: process.env.LK_LOG_LEVEL ?? 'error' });
  ready = true;
}

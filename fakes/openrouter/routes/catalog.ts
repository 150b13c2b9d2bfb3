/**
 * The endpoints beside chat that OpenRouter clients call: `GET /models` (public) and `GET /generation?id=` (only ids
 * this fake generated since reset). The account's `/key` and `/credits` are in account.ts.
 */
import { Router } from 'express';
import { modelEntry, specFor } from '../wire/catalog.js';
import { FAKE_WORDED } from '../wire/errors.js';
import type { FakeState } from '../state.js';
import { requireKey } from './auth.js';
import { sendError, sendJson } from './respond.js';

export function catalogRoutes(state: FakeState): Router {
  const router = Router();

  router.get('/models', (_req, res) => sendJson(res, 200, { data: state.served.map((m) => modelEntry(m, specFor(state.scenario, m))) }));

  router.get('/generation', requireKey, (req, res) => {
    const id = typeof req.query.id === 'string' ? req.query.id : '';
    const record = state.generations.get(id);
    if (!record) return sendError(res, { status: 404, message: FAKE_WORDED.generationNotFound(id) }, state.userId);
    const g = record.generation;
    sendJson(res, 200, {
      data: {
        id: g.id,
        upstream_id: `chatcmpl-${g.id.slice(-20)}`,
        total_cost: record.cost,
        cache_discount: null,
        upstream_inference_cost: null,
        created_at: new Date(g.created * 1000).toISOString(),
        model: g.model,
        app_id: null,
        streamed: record.streamed,
        cancelled: record.cancelled,
        provider_name: g.provider,
        latency: record.latencyMs,
        moderation_latency: null,
        generation_time: record.generationTimeMs,
        finish_reason: record.finishReason,
        native_finish_reason: record.finishReason,
        tokens_prompt: record.promptTokens,
        tokens_completion: record.completionTokens,
        native_tokens_prompt: record.promptTokens,
        native_tokens_completion: record.completionTokens,
        native_tokens_reasoning: 0,
        num_media_prompt: null,
        num_media_completion: null,
        num_search_results: null,
        origin: '',
        usage: record.cost,
        is_byok: false,
      },
    });
  });
  return router;
}

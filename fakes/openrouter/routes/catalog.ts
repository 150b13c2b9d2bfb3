/**
 * The endpoints beside chat that OpenRouter clients call: `GET /models` (public), `GET /key` (and the legacy
 * `/auth/key`), `GET /credits`, `GET /generation?id=` (only ids this fake generated since reset).
 */
import { Router } from 'express';
import { modelEntry, specFor } from '../wire/catalog.js';
import { FAKE_WORDED } from '../wire/errors.js';
import type { FakeState } from '../state.js';
import { requireKey } from './auth.js';
import { sendError, sendJson } from './respond.js';

/** Credits the fake account holds, USD. */
const TOTAL_CREDITS = 10;

export function catalogRoutes(state: FakeState): Router {
  const router = Router();
  const usage = () => state.generations.usageUsd;

  router.get('/models', (_req, res) => sendJson(res, 200, { data: state.served.map((m) => modelEntry(m, specFor(state.scenario, m))) }));

  // Every field of OpenRouter's `GET /key` (its API reference). The fake's account: no limit, no BYOK, usage is
  // what the fake generated since reset (all of it counts as today's, this week's and this month's).
  const key = () => {
    const spent = usage();
    return {
      data: {
        label: 'sk-or-v1-fak...e00',
        limit: null,
        limit_remaining: null,
        limit_reset: null,
        include_byok_in_limit: false,
        usage: spent,
        usage_daily: spent,
        usage_weekly: spent,
        usage_monthly: spent,
        byok_usage: 0,
        byok_usage_daily: 0,
        byok_usage_weekly: 0,
        byok_usage_monthly: 0,
        is_free_tier: false,
        is_management_key: false,
        is_provisioning_key: false,
        creator_user_id: state.userId,
        expires_at: null,
        rate_limit: { requests: 20, interval: '10s', note: 'This field is deprecated and safe to ignore.' },
      },
    };
  };
  router.get('/key', requireKey, (_req, res) => sendJson(res, 200, key()));
  router.get('/auth/key', requireKey, (_req, res) => sendJson(res, 200, key()));

  router.get('/credits', requireKey, (_req, res) => sendJson(res, 200, { data: { total_credits: TOTAL_CREDITS, total_usage: usage() } }));

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

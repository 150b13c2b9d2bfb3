/**
 * `GET /key` (and the legacy `/auth/key`) and `GET /credits`: the account behind the request's key, as the free-model
 * quota sees it (`fake.account`): the same counts that refuse a `:free` request are the ones reported here.
 */
import { Router } from 'express';
import type { AccountReport } from '../quota/quota.js';
import type { FakeState } from '../state.js';
import { keyIdOf, requireKey } from './auth.js';
import { sendJson } from './respond.js';

export function accountRoutes(state: FakeState): Router {
  const router = Router();
  const reportFor = (authorization: string | undefined) => state.quota.report(keyIdOf(authorization) ?? 'key_none', state.clock.now());

  const key = (authorization: string | undefined) => ({ data: keyData(reportFor(authorization), state.userId) });
  router.get('/key', requireKey, (req, res) => sendJson(res, 200, key(req.headers.authorization)));
  router.get('/auth/key', requireKey, (req, res) => sendJson(res, 200, key(req.headers.authorization)));

  router.get('/credits', requireKey, (req, res) => {
    const report = reportFor(req.headers.authorization);
    sendJson(res, 200, { data: { total_credits: report.settings.credits, total_usage: report.usageUsd } });
  });
  return router;
}

/**
 * Every field of OpenRouter's `GET /key` (its API reference), `free_model_daily_requests` included. The fake's key:
 * no credit cap, no BYOK; usage is what the fake generated for this key since reset (so the week and the month are
 * the same as all time), `usage_daily` the part of it in the current UTC day of the scenario calendar.
 */
function keyData(report: AccountReport, userId: string) {
  return {
    label: 'sk-or-v1-fak...e00',
    limit: null,
    limit_remaining: null,
    limit_reset: null,
    include_byok_in_limit: false,
    usage: report.usageUsd,
    usage_daily: report.usageDailyUsd,
    usage_weekly: report.usageUsd,
    usage_monthly: report.usageUsd,
    byok_usage: 0,
    byok_usage_daily: 0,
    byok_usage_weekly: 0,
    byok_usage_monthly: 0,
    // "Whether the user has paid for credits before."
    is_free_tier: report.settings.credits === 0,
    is_management_key: false,
    is_provisioning_key: false,
    creator_user_id: userId,
    expires_at: null,
    // Deprecated by OpenRouter; the fake says the free-model minute limit in it.
    rate_limit: { requests: report.limits.perMinute, interval: '1m', note: 'This field is deprecated and safe to ignore.' },
    // The counter the limiter reads (reported for an account exempt from it too: `remaining` is then the tier's policy).
    free_model_daily_requests: {
      limit: report.limits.perDay,
      remaining: Math.max(0, report.limits.perDay - report.free.inDay),
      used: report.free.inDay,
    },
  };
}

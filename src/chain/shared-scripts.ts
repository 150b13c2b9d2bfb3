/**
 * The shared store's Redis side: each update is one Lua script, so it is atomic whatever the fleet does at the same
 * instant. Times are epoch ms of the agent's injected clock, passed in (never Redis's own clock: `--speed N`).
 */

/**
 * Merges a failure's cooldown (the later end wins, else the longer streak, as mergeCooldowns does in process), sets
 * the last error, ends the caller's own probe lease and keeps the record at least `ttl` ms. One script: atomic.
 * KEYS[1] record; ARGV: until, cls, streak, guessed, since, errClass, errDetail, errAt, ttlMs, caller.
 */
export const FAIL_SCRIPT = `
local cur = redis.call('HMGET', KEYS[1], 'until', 'streak', 'probeBy')
local curUntil = tonumber(cur[1])
if cur[3] == ARGV[10] then redis.call('HDEL', KEYS[1], 'probeUntil', 'probeBy') end
if (not curUntil) or curUntil < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'until', ARGV[1], 'cls', ARGV[2], 'streak', ARGV[3], 'guessed', ARGV[4], 'since', ARGV[5])
elseif tonumber(ARGV[3]) > (tonumber(cur[2]) or 0) then
  redis.call('HSET', KEYS[1], 'streak', ARGV[3])
end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'errClass', ARGV[6], 'errDetail', ARGV[7], 'errAt', ARGV[8]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[9]) then redis.call('PEXPIRE', KEYS[1], ARGV[9]) end
return 1`;

/**
 * Fleet-wide half-open: the first call to ask after a cooldown ended takes a lease (SET NX PX, on the injected clock's
 * epoch ms rather than Redis's own clock) and probes; the others see the model cooling until the lease ends or the
 * probe's verdict replaces the record. Returns 1 when the caller may ask, else the epoch ms it should wait for.
 * KEYS[1] record; ARGV: nowEpochMs, leaseEndEpochMs, caller.
 */
export const CLAIM_SCRIPT = `
local rec = redis.call('HMGET', KEYS[1], 'until', 'probeUntil', 'probeBy')
local untilMs = tonumber(rec[1])
if not untilMs then return {1} end
if untilMs > tonumber(ARGV[1]) then return {0, untilMs} end
local lease = tonumber(rec[2])
if lease and lease > tonumber(ARGV[1]) and rec[3] ~= ARGV[3] then return {0, lease} end
redis.call('HSET', KEYS[1], 'probeUntil', ARGV[2], 'probeBy', ARGV[3])
return {1}`;

/** Gives back a probe lease this caller holds (a hedge picked but never sent). KEYS[1] record; ARGV: caller. */
export const RELEASE_SCRIPT = `
if redis.call('HGET', KEYS[1], 'probeBy') == ARGV[1] then redis.call('HDEL', KEYS[1], 'probeUntil', 'probeBy') end
return 1`;

/**
 * The key's budget of requests to `:free` models, both of OpenRouter's windows at once (atomic: a slot is booked in
 * both or in neither). The minute (20, across all free models) as a sliding window: a request is sent only when
 * fewer than `limit` were sent in the last window, so no fixed minute ever sees more. The day (50, or 1000 with 10
 * credits bought) as OpenRouter counts it: a fixed UTC day of the injected clock, a count per day start; `perDay` 0
 * means no daily budget (not known yet, or turned off).
 * Returns {1} (a slot, booked) or {0, epoch ms when a slot frees: the oldest request leaving the minute, or midnight}.
 * KEYS[1] minute window (sorted set), KEYS[2] day count (hash: day, used);
 * ARGV: nowEpochMs, windowMs, limit, member, dayStartEpochMs, dayEndEpochMs, perDay.
 */
export const FREE_SLOT_SCRIPT = `
local perDay = tonumber(ARGV[7])
local used = 0
if perDay > 0 then
  local day = redis.call('HMGET', KEYS[2], 'day', 'used')
  if day[1] == ARGV[5] then used = tonumber(day[2]) or 0 end
  if used >= perDay then return {0, tonumber(ARGV[6])} end
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(oldest[2]) + tonumber(ARGV[2])}
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
if perDay > 0 then
  redis.call('HSET', KEYS[2], 'day', ARGV[5], 'used', used + 1)
  redis.call('PEXPIRE', KEYS[2], tonumber(ARGV[6]) - tonumber(ARGV[1]) + tonumber(ARGV[2]))
end
return {1}`;

/**
 * What the key's account says it already used today (`/key`'s free_model_daily_requests.used): the day's count is
 * raised to it (never lowered: the fleet's own bookings since may be newer). Requests made before the fleet shared a
 * store, or by another program on the key, are then counted too.
 * KEYS[1] day count; ARGV: dayStartEpochMs, used, ttlMs.
 */
export const FREE_DAY_SEED_SCRIPT = `
local day = redis.call('HMGET', KEYS[1], 'day', 'used')
local cur = 0
if day[1] == ARGV[1] then cur = tonumber(day[2]) or 0 end
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], 'day', ARGV[1], 'used', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** OpenRouter's free-model day: UTC, calendar-aligned (its X-RateLimit-Reset names midnight). */
export const FREE_DAY_MS = 24 * 60 * 60 * 1000;

/** OpenRouter's window for `:free` requests per minute. */
export const FREE_WINDOW_MS = 60_000;
/**
 * A slot frees this much after the oldest request's minute, not at once: OpenRouter counts a request in the calendar
 * minute it arrives in, and a request booked the instant a slot freed could arrive (a few ms on its way) in the same
 * calendar minute as the 20 before it, and be refused. bench:fleet met that with one 429 in 90 turns.
 */
export const FREE_WINDOW_MARGIN_MS = 1_000;

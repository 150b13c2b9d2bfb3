/**
 * The shared store's Redis side: each update is one Lua script, so it is atomic whatever the fleet does at the same
 * instant. Times are epoch ms of the agent's injected clock, passed in (never Redis's own clock: `--speed N`).
 */

/**
 * Every change to a cooldown record ends here: the key's version counter goes up one and the record as it now is
 * goes out on the key's channel, so each process's mirror (shared-mirror.ts) follows without reading Redis in a turn.
 * The version orders the messages and tells a mirror when it missed one (a gap) or Redis lost its data (a version
 * that goes back). Defined in each script that changes a record: Redis runs a script's text, not a library.
 * KEYS[2] version counter; ARGV[1] channel, ARGV[2] model.
 */
const ANNOUNCE = `
local function announce()
  local v = redis.call('INCR', KEYS[2])
  redis.call('PUBLISH', ARGV[1], cjson.encode({v, ARGV[2], redis.call('HGETALL', KEYS[1])}))
  return v
end`;

/**
 * Merges a failure's cooldown (the later end wins; the streak never goes down, as mergeCooldowns does in process), sets
 * the last error, ends the caller's own probe lease and keeps the record at least `ttl` ms. One script: atomic.
 * The streak is the fleet's failures in a row: a cooldown that is no failure of the model's own (the key's
 * free-models-per-min, an empty `:free` budget) comes with streak '' and leaves it as it is; a later end from a call
 * that had not heard of the fleet's streak does not lower it (a growing guess would start again from its base).
 * KEYS[1] record, KEYS[2] version; ARGV: channel, model, until, cls, streak ('' none), guessed, since, errClass,
 * errDetail, errAt, ttlMs, caller, bookedAtEpochMs (when the failure was booked, first tried).
 */
export const FAIL_SCRIPT = `${ANNOUNCE}
local cur = redis.call('HMGET', KEYS[1], 'until', 'streak', 'probeBy')
local curUntil = tonumber(cur[1])
if cur[3] == ARGV[12] then redis.call('HDEL', KEYS[1], 'probeUntil', 'probeBy') end
-- When the latest failure was booked (epoch ms): a success written back after an outage forgets only older ones.
if (tonumber(redis.call('HGET', KEYS[1], 'failAt')) or 0) < tonumber(ARGV[13]) then redis.call('HSET', KEYS[1], 'failAt', ARGV[13]) end
if (not curUntil) or curUntil < tonumber(ARGV[3]) then
  redis.call('HSET', KEYS[1], 'until', ARGV[3], 'cls', ARGV[4], 'guessed', ARGV[6], 'since', ARGV[7])
  -- The call that met the failure is named to probe first when it ends (BOOK_SCRIPT's head start); a cooldown that is
  -- no failure of the model's own names nobody (whoever asks first probes).
  if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'nextBy', ARGV[12]) else redis.call('HDEL', KEYS[1], 'nextBy') end
end
local streak = tonumber(ARGV[5])
if streak and streak > (tonumber(cur[2]) or 0) then redis.call('HSET', KEYS[1], 'streak', streak) end
if ARGV[8] ~= '' then redis.call('HSET', KEYS[1], 'errClass', ARGV[8], 'errDetail', ARGV[9], 'errAt', ARGV[10]) end
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[11]) then redis.call('PEXPIRE', KEYS[1], ARGV[11]) end
return announce()`;

/**
 * A success forgets the model's record fleet-wide (its probe lease too). Returns the version it is part of (the
 * counter as it is when there was nothing to forget): what the caller's mirror drops anything older than.
 * A success written back after an outage (`at`: its epoch ms) forgets only failures older than itself: a failure
 * another call booked meanwhile is the model's last word.
 * KEYS[1] record, KEYS[2] version; ARGV: channel, model, at ('' for a success as it happens).
 */
export const CLEAR_SCRIPT = `${ANNOUNCE}
if ARGV[3] ~= '' then
  if (tonumber(redis.call('HGET', KEYS[1], 'failAt')) or 0) > tonumber(ARGV[3]) then return tonumber(redis.call('GET', KEYS[2]) or '0') end
end
if redis.call('DEL', KEYS[1]) == 0 then return tonumber(redis.call('GET', KEYS[2]) or '0') end
return announce()`;

/**
 * One decision's booking, in one round trip: may the caller ask the model now? Cooling (a failure another call booked
 * since this process last heard) refuses with its end; an ended cooldown is half-open, fleet-wide: the first call to
 * ask takes a probe lease (on the injected clock's epoch ms, not Redis's own clock) and the others see the model
 * cooling until the lease ends or the probe's verdict replaces the record. For a `:free` model the key's budget is
 * booked too (FREE_BUDGET): the lease and the slot are taken both or neither.
 *
 * The head start: for `headStart` ms after the end, only the call that met the failure (`nextBy`, FAIL_SCRIPT) may take
 * the lease; the others are refused as if it probed, and look again when the head start is over. Why: every call that
 * waits on a cooldown wakes at its end, the same instant; without a name they all made this round trip at once for
 * one lease, and on a busy machine each waited for a core (bench:fleet's storm: 20 bookings per pass, their p99 tens
 * of ms). With one, each process's mirror already says who probes (shared-cooldowns.ts, `refusedByMirror`): one
 * booking per pass. The lease is still taken here, atomically, so two calls never probe at once whoever is named; a
 * named call that has no turn then costs the others the head start, no request.
 *
 * An early probe (`early`: a pass that found every backend cooling probes a model on a guessed end rather than hold,
 * policy.ts `probeInsteadOfHolding`): a record whose end is a guess grants the lease before its end, so the fleet's
 * early probe is one call's too (the others are refused as probing); a told end (a provider's reset time) is still
 * refused as cooling. No head start before the end: it is for the instant a cooldown ends, not for a caller who waits.
 * Returns {1, usedToday, leased (1/0)} (granted) or {0, epoch ms to wait for, why: 'cooling' | 'probing' | 'minute' | 'day', cls}
 * and, for 'cooling', the record's guessed ('1'/'0') and streak: the refusal is the record, booked as it is.
 * KEYS[1] record, KEYS[2] version, KEYS[3] minute window (sorted set), KEYS[4] day count (hash: day, used);
 * ARGV: channel, model, nowEpochMs, leaseEndEpochMs, caller, free (1/0), windowMs, limit, member, dayStartEpochMs,
 * dayEndEpochMs, perDay, headStartMs (epoch ms), early (1/0).
 */
export const BOOK_SCRIPT = `${ANNOUNCE}
local now = tonumber(ARGV[3])
local rec = redis.call('HMGET', KEYS[1], 'until', 'probeUntil', 'probeBy', 'cls', 'guessed', 'streak', 'nextBy')
local untilMs = tonumber(rec[1])
local early = untilMs and untilMs > now and ARGV[14] == '1' and rec[5] == '1'
if untilMs and untilMs > now and not early then return {0, untilMs, 'cooling', rec[4], rec[5] or '0', rec[6] or '0'} end
local lease = tonumber(rec[2])
local leased = untilMs and lease and lease > now
if leased and rec[3] ~= ARGV[5] then return {0, lease, 'probing', rec[4]} end
local headStartEnd = untilMs and untilMs + tonumber(ARGV[13])
if not early and untilMs and not leased and rec[7] and rec[7] ~= ARGV[5] and now < headStartEnd then return {0, headStartEnd, 'probing', rec[4]} end
local used = 0
if ARGV[6] == '1' then
  local perDay = tonumber(ARGV[12])
  local day = redis.call('HMGET', KEYS[4], 'day', 'used')
  if day[1] == ARGV[10] then used = tonumber(day[2]) or 0 end
  if perDay > 0 and used >= perDay then return {0, tonumber(ARGV[11]), 'day', 'rate-limit'} end
  redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now - tonumber(ARGV[7]))
  if redis.call('ZCARD', KEYS[3]) >= tonumber(ARGV[8]) then
    local oldest = redis.call('ZRANGE', KEYS[3], 0, 0, 'WITHSCORES')
    return {0, tonumber(oldest[2]) + tonumber(ARGV[7]), 'minute', 'rate-limit'}
  end
  redis.call('ZADD', KEYS[3], now, ARGV[9])
  redis.call('PEXPIRE', KEYS[3], ARGV[7])
  -- The day is counted even while its limit is unknown: a limit learned later (a daily 429) starts from the truth.
  used = used + 1
  redis.call('HSET', KEYS[4], 'day', ARGV[10], 'used', used)
  redis.call('PEXPIRE', KEYS[4], tonumber(ARGV[11]) - now + tonumber(ARGV[7]))
end
if untilMs then
  redis.call('HSET', KEYS[1], 'probeUntil', ARGV[4], 'probeBy', ARGV[5])
  -- An early probe leaves the name for the end: if it gives its lease back, the head start is still the named call's.
  if not early then redis.call('HDEL', KEYS[1], 'nextBy') end
  announce()
  return {1, used, 1}
end
return {1, used, 0}`;

/**
 * Gives back what a booking took for a request that was never sent (a hedge picked too late): the caller's probe
 * lease (or its head start: it gave up its probe, so another call may take it at once), and its `:free` slot (the minute's member and the day's count, if that day is still the count's). OpenRouter
 * never saw the request, so its count never had it. One script: atomic.
 * KEYS[1] record, KEYS[2] version, KEYS[3] minute window, KEYS[4] day count; ARGV: channel, model, caller, member
 * ('' when no slot was booked), dayStartEpochMs.
 */
export const GIVE_BACK_SCRIPT = `${ANNOUNCE}
if ARGV[4] ~= '' and redis.call('ZREM', KEYS[3], ARGV[4]) == 1 and redis.call('HGET', KEYS[4], 'day') == ARGV[5] then
  redis.call('HINCRBY', KEYS[4], 'used', -1)
end
local rec = redis.call('HMGET', KEYS[1], 'probeBy', 'nextBy')
if rec[1] == ARGV[3] or rec[2] == ARGV[3] then
  if rec[1] == ARGV[3] then redis.call('HDEL', KEYS[1], 'probeUntil', 'probeBy') end
  if rec[2] == ARGV[3] then redis.call('HDEL', KEYS[1], 'nextBy') end
  announce()
end
return 1`;

/**
 * The state a mirror starts from (or resyncs to after a gap or a reconnect), at one version: the counter and every
 * record asked for, read at once. KEYS[1] version, KEYS[2..] records. Returns {version, fields of each record}.
 */
export const SNAPSHOT_SCRIPT = `
local out = {tonumber(redis.call('GET', KEYS[1]) or '0')}
for i = 2, #KEYS do out[i] = redis.call('HGETALL', KEYS[i]) end
return out`;

/**
 * What a process knows of the key's `:free` use, written back (never lowering what Redis has): the day's count
 * (`/key`'s free_model_daily_requests.used, or the last count this process booked, after a Redis restart lost it),
 * and this process's own bookings still inside the minute window. Requests made before the fleet shared a store,
 * or while Redis was away, are then counted too.
 * KEYS[1] day count, KEYS[2] minute window; ARGV: dayStartEpochMs, used, ttlMs, windowMs, then score, member pairs.
 */
export const FREE_SEED_SCRIPT = `
local day = redis.call('HMGET', KEYS[1], 'day', 'used')
local cur = 0
if day[1] == ARGV[1] then cur = tonumber(day[2]) or 0 end
if tonumber(ARGV[2]) > cur then redis.call('HSET', KEYS[1], 'day', ARGV[1], 'used', ARGV[2]) end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
if #ARGV > 4 then
  for i = 5, #ARGV, 2 do redis.call('ZADD', KEYS[2], 'NX', ARGV[i], ARGV[i + 1]) end
  redis.call('PEXPIRE', KEYS[2], ARGV[4])
end
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

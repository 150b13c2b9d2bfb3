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

/**
 * The key's budget of requests to `:free` models (OpenRouter: 20 a minute across all of them), as a sliding window:
 * a request is sent only when fewer than `limit` were sent in the last window, so no fixed minute ever sees more.
 * Returns {1} (a slot, booked) or {0, epoch ms when the oldest request leaves the window}.
 * KEYS[1] window (sorted set); ARGV: nowEpochMs, windowMs, limit, member.
 */
export const FREE_SLOT_SCRIPT = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + tonumber(ARGV[2])}`;

/** OpenRouter's window for `:free` requests per minute. */
export const FREE_WINDOW_MS = 60_000;

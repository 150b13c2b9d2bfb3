/**
 * Cooldowns shared by a fleet (`REDIS_URL`): every job process on one OpenRouter key reads and writes the same
 * cooldown records in Redis, so a 429 seen by one call cools that model for all and a success clears it for all.
 * This is an I/O edge only: the policy still reads the chain's in-process `cooldowns` map; `sync` refreshes that map
 * from Redis before each decision, and the chain reports its failures and successes here after booking them locally.
 *
 * Why not Redis TTLs as the cooldown: every time is epoch ms on the injected clock (`toEpochMs`), so `--speed N` and
 * virtual-time tests see the same cooldown ends as in-process ones. A TTL only collects records nobody updates.
 *
 * Redis is help, never a dependency of a turn. Each call has a wall deadline (`deadlineMs`, 50 ms: it bounds real
 * network I/O, so it is not scenario time); a call while the client is not connected fails at once. A failed call
 * leaves the chain on its in-process state, is counted (`failures`), and logged once per outage; when Redis answers
 * again the chain's live cooldowns and the successes it saw meanwhile are written back (a restarted Redis is empty).
 *
 * Keys: `holdline:cooldown:<sha256(key), 16 hex>:<model>`, `holdline:free:<same hash>` (the `:free` minute budget) and
 * `holdline:free-day:<same hash>` (its day) — the API key never leaves the process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Clock } from '../../contract/clock.js';
import { holdTime } from '../../contract/time/held.js';
import type { FailureClass } from '../../contract/events.js';
import type { Logger } from '../observability/log.js';
import type { Cooldown } from './cooldown.js';
import { CLAIM_SCRIPT, FAIL_SCRIPT, RELEASE_SCRIPT, FREE_DAY_MS, FREE_DAY_SEED_SCRIPT, FREE_SLOT_SCRIPT, FREE_WINDOW_MARGIN_MS, FREE_WINDOW_MS } from './shared-scripts.js';

export const REDIS_DEADLINE_MS = 50;
/**
 * On virtual time (a rehearsal's clock that skips idle time) a call holds the clock until Redis answers, so a slow
 * answer costs no scenario time; a busy machine must not make Redis look down there. The deadline then only
 * bounds a Redis that hangs.
 */
export const VIRTUAL_TIME_REDIS_DEADLINE_MS = 2_000;
/**
 * After a call missed its deadline or failed, calls are skipped (failing at once) this long, wall time: a slow Redis
 * must not cost every decision of a turn another deadline. A reconnect ends the pause at once.
 */
const QUIET_AFTER_FAILURE_MS = 1_000;
/**
 * While another call probes a model, the others see it cooling this much longer at most (scenario ms), not until the
 * lease's end: they look again by then, so a probe that answered at once frees the model for all within a second.
 */
export const PROBE_RECHECK_MS = 1_000;
/** How long a record outlives its cooldown's end before Redis drops it (its streak is what the next failure grows from). */
const GC_AFTER_END_MS = 60 * 60 * 1000;

export interface LastError {
  class: string;
  detail: string;
  at: number;
}

/** One backend's shared state, in scenario ms. */
export interface SharedRecord {
  cooldown: Cooldown;
  lastError?: LastError;
}

export type SharedFailureReason = 'timeout' | 'error' | 'disconnected';

type ScriptedRedis = Redis & {
  holdlineFail(key: string, ...args: (string | number)[]): Promise<number>;
  holdlineClaim(key: string, ...args: (string | number)[]): Promise<[number, number?]>;
  holdlineRelease(key: string, caller: string): Promise<number>;
  holdlineFreeSlot(key: string, dayKey: string, ...args: (string | number)[]): Promise<[number, number?]>;
  holdlineFreeDaySeed(key: string, ...args: (string | number)[]): Promise<number>;
};

export interface SharedCooldownsOptions {
  /** A `redis://` URL (a client is made and closed here) or an ioredis client you own. */
  redis: string | Redis;
  apiKey: string;
  clock: Clock;
  log?: Logger;
  deadlineMs?: number;
  /** Requests a minute to `:free` models, fleet-wide (OpenRouter's 20); 0: no budget. */
  freePerMinute?: number;
  /**
   * Requests a day to `:free` models, fleet-wide (OpenRouter's 50, or 1000 once 10 credits were bought); 0: no daily
   * budget. Undefined: not known yet, learned from the key's account (`learnFreePerDay`, free-quota.ts).
   */
  freePerDay?: number;
}

/** Where the key's daily `:free` limit came from: configured, the account's `/key`, or a daily 429's X-RateLimit-Limit. */
export type FreePerDaySource = 'config' | 'key' | '429';

/**
 * Emits 'down' (once per outage), 'up' (Redis answered again, state written back) and 'decision' (the wall ms Redis
 * added to one decision of a turn: the read before it and the lease or budget it took).
 */
export class SharedCooldowns extends EventEmitter {
  readonly client: ScriptedRedis;
  /** Failed Redis calls by operation and reason (the prom-client counter reads these). */
  readonly failures = new Map<string, number>();
  private readonly owned: boolean;
  private readonly prefix: string;
  /** The key's `:free` request window (a sorted set beside its cooldown records). */
  private readonly freeKey: string;
  private readonly freeDayKey: string;
  private readonly clock: Clock;
  private readonly log: Logger | undefined;
  private readonly deadlineMs: number;
  private readonly freePerMinute: number;
  private perDay: { limit: number; source: FreePerDaySource } | undefined;
  /** Who holds a probe lease: one id per chain. */
  readonly caller = randomUUID();
  private healthy = true;
  /** The outage was logged (and 'down' emitted): its end is logged too. */
  private outage = false;
  /** Calls before the first connection are skipped quietly: a client still connecting at start is no outage. */
  private connectedOnce = false;
  /** Successes seen while Redis was away: cleared there when it is back. */
  private readonly pendingClears = new Set<string>();
  /** Wall ms before which calls are skipped (see QUIET_AFTER_FAILURE_MS). */
  private quietUntil = 0;
  /** Calls under way, and who waits for none to be (`idle`). */
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];

  constructor(options: SharedCooldownsOptions) {
    super();
    this.owned = typeof options.redis === 'string';
    this.client = (
      typeof options.redis === 'string'
        ? new Redis(options.redis, {
            // Fail at once while disconnected instead of queueing: a turn must not wait for a reconnect.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            retryStrategy: (times) => Math.min(100 * times, 1_000),
          })
        : options.redis
    ) as ScriptedRedis;
    this.client.defineCommand('holdlineFail', { numberOfKeys: 1, lua: FAIL_SCRIPT });
    this.client.defineCommand('holdlineClaim', { numberOfKeys: 1, lua: CLAIM_SCRIPT });
    this.client.defineCommand('holdlineRelease', { numberOfKeys: 1, lua: RELEASE_SCRIPT });
    this.client.defineCommand('holdlineFreeSlot', { numberOfKeys: 2, lua: FREE_SLOT_SCRIPT });
    this.client.defineCommand('holdlineFreeDaySeed', { numberOfKeys: 1, lua: FREE_DAY_SEED_SCRIPT });
    // ioredis reports connection errors as events; without a listener it prints them. The outage is logged once by `failed`.
    this.client.on('error', this.onError);
    // A dropped connection (Redis stopped or restarted) is an outage even if no call failed: resync when back.
    this.client.on('close', this.onClose);
    this.client.on('ready', this.onReady);
    this.connectedOnce = this.client.status === 'ready';
    const keyHash = createHash('sha256').update(options.apiKey).digest('hex').slice(0, 16);
    this.prefix = `holdline:cooldown:${keyHash}:`;
    this.freeKey = `holdline:free:${keyHash}`;
    this.freeDayKey = `holdline:free-day:${keyHash}`;
    this.clock = options.clock;
    this.log = options.log;
    const virtual = !Number.isFinite((options.clock as { speed?: number }).speed ?? 1);
    this.deadlineMs = options.deadlineMs ?? (virtual ? VIRTUAL_TIME_REDIS_DEADLINE_MS : REDIS_DEADLINE_MS);
    this.freePerMinute = options.freePerMinute ?? 20;
    if (options.freePerDay !== undefined) this.perDay = { limit: options.freePerDay, source: 'config' };
  }

  /** The key's daily `:free` limit the budget applies, and where it was learned; undefined while unknown. */
  get freePerDay(): { limit: number; source: FreePerDaySource } | undefined {
    return this.perDay;
  }

  /**
   * The account told its daily `:free` limit (and, from `/key`, how much of today it already used). A configured
   * limit is never overridden: the operator may know better (another program shares the key). `usedToday` raises
   * the fleet's count for today so requests made before it started sharing are counted too.
   */
  async learnFreePerDay(limit: number, source: Exclude<FreePerDaySource, 'config'>, usedToday?: number): Promise<void> {
    if (this.perDay?.source === 'config' || !(limit > 0)) return;
    if (this.perDay?.limit !== limit) this.log?.info({ freePerDay: limit, source }, 'daily :free limit learned from the account');
    this.perDay = { limit, source };
    if (usedToday === undefined || !(usedToday > 0)) return;
    const { dayStart, dayEnd, nowEpoch } = this.day();
    await this.call('budget', () => this.client.holdlineFreeDaySeed(this.freeDayKey, dayStart, Math.round(usedToday), dayEnd - nowEpoch + FREE_WINDOW_MS));
  }

  /** Today's UTC day on the injected clock's calendar (epoch ms). */
  private day(): { dayStart: number; dayEnd: number; nowEpoch: number } {
    const nowEpoch = Math.round(this.clock.toEpochMs(this.clock.now()));
    const dayStart = Math.floor(nowEpoch / FREE_DAY_MS) * FREE_DAY_MS;
    return { dayStart, dayEnd: dayStart + FREE_DAY_MS, nowEpoch };
  }

  /** @internal The chain reports the wall ms Redis added to one decision (the bench's and /metrics' histogram). */
  noteDecision(wallMs: number): void {
    this.emit('decision', wallMs);
  }

  keyOf(model: string): string {
    return this.prefix + model;
  }

  /** True when the last Redis call answered. */
  get up(): boolean {
    return this.healthy;
  }

  /**
   * The shared records of `models` (by model), or undefined when Redis did not answer: the caller keeps its own state.
   * After an outage, first writes back `local` (the chain's live cooldowns, by model) and the successes seen meanwhile.
   */
  async read(models: readonly string[], local: ReadonlyMap<string, Cooldown>): Promise<Map<string, SharedRecord> | undefined> {
    if (!this.healthy && !(await this.resync(local))) return undefined;
    const replies = await this.call('read', () => {
      const pipeline = this.client.pipeline();
      for (const model of models) pipeline.hgetall(this.keyOf(model));
      return pipeline.exec();
    });
    if (!replies) return undefined;
    const nowEpoch = this.clock.toEpochMs(this.clock.now());
    const view = new Map<string, SharedRecord>();
    models.forEach((model, i) => {
      const [error, fields] = replies[i] ?? [];
      const record = !error && fields ? this.fromFields(fields as Record<string, string>, nowEpoch) : undefined;
      if (record) view.set(model, record);
    });
    return view;
  }

  /** Books a failure's cooldown (and, for the failing backend, its last error). Resolves false when Redis did not take it. */
  async fail(model: string, cooldown: Cooldown, lastError?: LastError): Promise<boolean> {
    this.pendingClears.delete(model);
    const toEpoch = (ms: number) => Math.round(this.clock.toEpochMs(ms));
    const untilEpoch = toEpoch(cooldown.until);
    const ttlMs = Math.max(0, untilEpoch - toEpoch(this.clock.now())) + GC_AFTER_END_MS;
    const args = [
      untilEpoch,
      cooldown.cls,
      cooldown.streak ?? 1,
      cooldown.guessed ? 1 : 0,
      cooldown.since === undefined ? '' : toEpoch(cooldown.since),
      lastError?.class ?? '',
      lastError?.detail ?? '',
      lastError ? toEpoch(lastError.at) : '',
      ttlMs,
      this.caller,
    ];
    return (await this.call('fail', () => this.client.holdlineFail(this.keyOf(model), ...args))) !== undefined;
  }

  /** A success forgets the model's failures fleet-wide (and ends any probe lease on it). */
  async clear(model: string): Promise<boolean> {
    const done = (await this.call('clear', () => this.client.del(this.keyOf(model)))) !== undefined;
    if (done) this.pendingClears.delete(model);
    else this.pendingClears.add(model);
    return done;
  }

  /**
   * May this call ask `model`, whose cooldown ended? Granted (a lease until `leaseEnd`, scenario ms) or the scenario ms
   * until which it is still cooling (another call's probe). Granted when Redis does not answer: in-process state decides.
   */
  async claimProbe(model: string, leaseEnd: number): Promise<{ granted: true } | { granted: false; until: number }> {
    const nowEpoch = Math.round(this.clock.toEpochMs(this.clock.now()));
    const reply = await this.call('claim', () => this.client.holdlineClaim(this.keyOf(model), nowEpoch, Math.round(this.clock.toEpochMs(leaseEnd)), this.caller));
    if (reply === undefined || reply[0] === 1) return { granted: true };
    return { granted: false, until: Math.min(this.clock.fromEpochMs(Number(reply[1])), this.clock.now() + PROBE_RECHECK_MS) };
  }

  /** Gives back this call's probe lease on `model`, if it holds one (a hedge picked but never sent). */
  async releaseProbe(model: string): Promise<void> {
    await this.call('release', () => this.client.holdlineRelease(this.keyOf(model), this.caller));
  }

  private slots = 0;

  /**
   * Books one request to a `:free` model in the key's budget (`limit` a minute and the day's limit, fleet-wide).
   * Undefined when it may be sent (or Redis did not answer: in-process state decides), else the scenario ms of the
   * next free slot (the next minute's, or midnight when the day is spent).
   */
  async takeFreeSlot(): Promise<number | undefined> {
    const limit = this.freePerMinute;
    const perDay = this.perDay?.limit ?? 0;
    if (limit === 0 && perDay === 0) return undefined;
    const now = this.clock.now();
    const { dayStart, dayEnd, nowEpoch } = this.day();
    const windowEpochMs = Math.max(1, Math.round(this.clock.toEpochMs(now + FREE_WINDOW_MS + FREE_WINDOW_MARGIN_MS)) - nowEpoch);
    this.slots += 1;
    // No minute budget (0): a limit no window reaches, so the script checks the day alone.
    const minuteLimit = limit === 0 ? Number.MAX_SAFE_INTEGER : limit;
    const reply = await this.call('budget', () =>
      this.client.holdlineFreeSlot(this.freeKey, this.freeDayKey, nowEpoch, windowEpochMs, minuteLimit, `${this.caller}:${this.slots}`, dayStart, dayEnd, perDay),
    );
    if (reply === undefined || reply[0] === 1) return undefined;
    return this.clock.fromEpochMs(Number(reply[1]));
  }

  async close(): Promise<void> {
    this.removeAllListeners();
    this.client.off('error', this.onError);
    this.client.off('close', this.onClose);
    this.client.off('ready', this.onReady);
    if (!this.owned) return;
    // A live connection ends with an 'end' event; one that is reconnecting just stops trying (ioredis emits nothing).
    const connected = this.client.status === 'ready' || this.client.status === 'connect';
    const ended = connected ? new Promise((resolve) => this.client.once('end', resolve)) : undefined;
    this.client.disconnect();
    await ended;
  }

  private readonly onError = (error: Error): void => this.failed('connection', 'error', error);
  private readonly onClose = (): void => this.failed('connection', 'disconnected');
  private readonly onReady = (): void => {
    this.connectedOnce = true;
    this.quietUntil = 0;
    // Back after an outage: whoever holds this store writes back what it learned meanwhile now, not at its next
    // decision, which may never come (a call with no more turns would keep a 429 the fleet needs to itself).
    if (!this.healthy) this.emit('back');
  };

  /** True while a Redis call of this store is under way. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Resolves once no Redis call of this store is under way (tests drive virtual time only then). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes back what this process learned while Redis was away. True when Redis took it all. */
  private async resync(local: ReadonlyMap<string, Cooldown>): Promise<boolean> {
    if (this.client.status !== 'ready') {
      this.failed('read', 'disconnected');
      return false;
    }
    // All at once: one deadline for the lot, not one per record.
    const now = this.clock.now();
    const written = await Promise.all([
      ...[...this.pendingClears].map((model) => this.clear(model)),
      ...[...local].filter(([, cooldown]) => cooldown.until > now).map(([model, cooldown]) => this.fail(model, cooldown)),
    ]);
    if (written.includes(false)) return false;
    this.healthy = true;
    if (this.outage) {
      this.outage = false;
      this.log?.info({ redis: 'up' }, 'redis answers again: shared cooldowns resynced');
      this.emit('up');
    }
    return true;
  }

  /** Runs one Redis call within the deadline; undefined (counted, logged once per outage) when it did not answer. */
  private async call<T>(op: string, run: () => Promise<T>): Promise<T | undefined> {
    if (this.client.status !== 'ready' || Date.now() < this.quietUntil) {
      this.failed(op, 'disconnected');
      return undefined;
    }
    this.inFlight += 1;
    // A reply on its way over a plain socket is work a virtual clock cannot see by itself (contract/time/held.ts).
    const release = holdTime();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.deadlineMs);
    });
    try {
      const result = await Promise.race([run(), deadline]);
      if (result === 'timeout') {
        this.failed(op, 'timeout');
        return undefined;
      }
      return result;
    } catch (error) {
      this.failed(op, 'error', error as Error);
      return undefined;
    } finally {
      release();
      clearTimeout(timer);
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private failed(op: string, reason: SharedFailureReason, error?: Error): void {
    const label = `${op}:${reason}`;
    this.failures.set(label, (this.failures.get(label) ?? 0) + 1);
    if (reason !== 'disconnected') this.quietUntil = Date.now() + QUIET_AFTER_FAILURE_MS;
    this.healthy = false; // the next read writes back what was learned meanwhile
    if (this.outage || (!this.connectedOnce && reason === 'disconnected')) return;
    this.outage = true;
    // The error's code or message only: ioredis messages name host and port, never the URL's password.
    const detail = (error as { code?: string } | undefined)?.code ?? error?.message ?? reason;
    this.log?.warn({ redis: 'down', op, reason, detail }, 'redis did not answer: going on with in-process cooldowns');
    this.emit('down', { op, reason });
  }

  private fromFields(fields: Record<string, string>, nowEpoch: number): SharedRecord | undefined {
    if (fields.until === undefined) return undefined;
    const untilEpoch = Number(fields.until);
    const leaseEpoch = fields.probeUntil === undefined ? undefined : Number(fields.probeUntil);
    // Another call is probing: cooling until its verdict, a known end (not our guess, so nobody probes instead of holding).
    const leased = leaseEpoch !== undefined && leaseEpoch > nowEpoch && fields.probeBy !== this.caller && untilEpoch <= nowEpoch;
    const cooldown: Cooldown = {
      until: leased ? Math.min(this.clock.fromEpochMs(leaseEpoch as number), this.clock.now() + PROBE_RECHECK_MS) : this.clock.fromEpochMs(untilEpoch),
      cls: fields.cls as FailureClass,
      ...(fields.streak && { streak: Number(fields.streak) }),
      ...(fields.guessed === '1' && !leased && { guessed: true }),
      ...(fields.since && { since: this.clock.fromEpochMs(Number(fields.since)) }),
    };
    const lastError =
      fields.errClass === undefined ? undefined : { class: fields.errClass, detail: fields.errDetail ?? '', at: Math.round(this.clock.fromEpochMs(Number(fields.errAt))) };
    return { cooldown, ...(lastError && { lastError }) };
  }
}

/**
 * Cooldowns shared by a fleet (`REDIS_URL`): every job process on one OpenRouter key reads and writes the same
 * cooldown records in Redis, so a 429 seen by one call cools that model for all and a success clears it for all.
 * This is an I/O edge only: the policy still reads the chain's in-process `cooldowns` map; before each decision the
 * chain takes what changed in the fleet from this process's mirror of the records (shared-mirror.ts, kept by pub/sub:
 * memory, no round trip), and reports its failures and successes here after booking them locally. The one Redis
 * round trip a decision may make is its booking (`book`): a probe lease after a cooldown, a `:free` slot, or both, in
 * one script. On a clock that moves only when told (a rehearsal's virtual time, a test's), a decision first makes
 * sure the mirror has every update Redis already has (`caughtUp`, time held meanwhile): a message on its way is
 * work the clock waits for, or virtual time could jump past it and the same rehearsal play out two ways.
 *
 * Why not Redis TTLs as the cooldown: every time is epoch ms on the injected clock (`toEpochMs`), so `--speed N` and
 * virtual-time tests see the same cooldown ends as in-process ones. A TTL only collects records nobody updates.
 *
 * Redis is help, never a dependency of a turn. Each call has a wall deadline (`deadlineMs`, 50 ms: it bounds real
 * network I/O, so it is not scenario time); a call while the client is not connected fails at once. A failed call
 * leaves the chain on its in-process state, is counted (`failures`), and logged once per outage; when Redis answers
 * again the chain's live cooldowns and the successes it saw meanwhile are written back (a restarted Redis is empty).
 *
 * Keys: `holdline:cooldown:<sha256(key), 16 hex>:<model>`, `holdline:free:<same hash>` (the `:free` minute budget),
 * `holdline:free-day:<same hash>` (its day), `holdline:version:<same hash>` (the records' version counter) and the
 * channel `holdline:updates:<same hash>` — the API key never leaves the process.
 */
import { createHash, randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Redis } from 'ioredis';
import type { Clock } from '../../contract/clock.js';
import { holdTime } from '../../contract/time/held.js';
import type { FailureClass } from '../../contract/events.js';
import type { Logger } from '../observability/log.js';
import type { Cooldown } from './cooldown.js';
import { GIVE_UP, reconnectDelay, reconnectOnClock } from './redis-reconnect.js';
import { disconnected, SharedMirror, toFields, type RecordFields } from './shared-mirror.js';
import { BOOK_SCRIPT, CLEAR_SCRIPT, FAIL_SCRIPT, FREE_DAY_MS, FREE_SEED_SCRIPT, FREE_WINDOW_MARGIN_MS, FREE_WINDOW_MS, GIVE_BACK_SCRIPT, SNAPSHOT_SCRIPT } from './shared-scripts.js';

export const REDIS_DEADLINE_MS = 50;
/**
 * On virtual time (a rehearsal's clock that skips idle time) a call holds the clock until Redis answers, so a slow
 * answer costs no scenario time; a busy machine must not make Redis look down there. The deadline then only
 * bounds a Redis that hangs.
 */
export const VIRTUAL_TIME_REDIS_DEADLINE_MS = 2_000;
/**
 * After a call missed its deadline or failed, calls are skipped (failing at once) this long (wall time; the clock's on
 * virtual time): a slow Redis must not cost every decision of a turn another deadline. A reconnect ends the pause at
 * once.
 */
const QUIET_AFTER_FAILURE_MS = 1_000;
/**
 * While another call probes a model, the others see it cooling this much longer at most (scenario ms), not until the
 * lease's end: they look again by then. On wall time a probe that answers ends their waits at once (its first token
 * clears the record: ChainLLM.waitForPass); this look is how they hear it on a clock that moves only when told, and
 * the net under a message lost on its way.
 */
export const PROBE_RECHECK_MS = 1_000;
/**
 * For this long after a cooldown's end (scenario ms), only the call that met the failure may take the probe lease
 * (BOOK_SCRIPT's head start): the others, which woke at the same instant, skip the model that long without a round
 * trip, and by then their mirrors carry its lease or its verdict. Short: a named call that has no turn at the end
 * (answered meanwhile, hung up) costs the others this much before one of them probes instead.
 */
export const PROBE_HEAD_START_MS = 100;
/** What a Redis call's deadline settles it with (`call`): no reply can be this. */
const TIMED_OUT: unique symbol = Symbol('timed out');
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

type Args = (string | number)[];
type ScriptedRedis = Redis & {
  holdlineFail(...keysAndArgs: Args): Promise<number>;
  holdlineClear(...keysAndArgs: Args): Promise<number>;
  holdlineBook(...keysAndArgs: Args): Promise<[number, (number | string)?, (number | string)?, string?, string?, string?]>;
  holdlineGiveBack(...keysAndArgs: Args): Promise<number>;
  holdlineSnapshot(numberOfKeys: number, ...keys: string[]): Promise<[number, ...unknown[]]>;
  holdlineFreeSeed(...keysAndArgs: Args): Promise<number>;
};

/**
 * A decision's booking: granted (with the `:free` slot it took, to give back if never sent), or wait until `until`.
 * A 'cooling' refusal is another call's cooldown record: whether its end was guessed, and its streak, come with it.
 */
export type Booking =
  | { granted: true; slot?: string }
  | { granted: false; until: number; why: 'cooling' | 'probing' | 'minute' | 'day'; cls: FailureClass; guessed?: boolean; streak?: number };

/** What the chain tells the store: the models it shares, and its own live cooldowns (written back after an outage). */
export interface SharedWatch {
  models: readonly string[];
  local: () => ReadonlyMap<string, Cooldown>;
}

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
 * Emits 'down' (once per outage), 'up' (Redis answered again, state written back), 'decision' (the wall ms a turn's
 * decision waited on Redis: its booking, and on a clock that moves only when told, catching up with the mirror) and
 * 'booking' (the wall ms of one booking's round trip alone).
 */
export class SharedCooldowns extends EventEmitter {
  readonly client: ScriptedRedis;
  /** This process's copy of the key's records, kept by pub/sub on a connection of its own. */
  readonly mirror: SharedMirror;
  /** Failed Redis calls by operation and reason (the prom-client counter reads these). */
  readonly failures = new Map<string, number>();
  private readonly owned: boolean;
  private readonly prefix: string;
  /** The key's `:free` request window (a sorted set beside its cooldown records). */
  private readonly freeKey: string;
  private readonly freeDayKey: string;
  private readonly versionKey: string;
  private readonly channel: string;
  private readonly clock: Clock;
  /** Scenario time follows wall time (`--speed N`); else it moves only when told, and a decision catches up first. */
  private readonly wallTime: boolean;
  /** On a rehearsal's virtual time (a clock that skips idle time): reconnects and pauses go by it, not wall time. */
  private readonly virtual: boolean;
  private readonly log: Logger | undefined;
  private readonly deadlineMs: number;
  private readonly freePerMinute: number;
  private perDay: { limit: number; source: FreePerDaySource } | undefined;
  /** Who holds a probe lease or a `:free` slot: one id per chain. */
  readonly caller = randomUUID();
  private healthy = true;
  /** The outage was logged (and 'down' emitted): its end is logged too. */
  private outage = false;
  /** Calls before the first connection are skipped quietly: a client still connecting at start is no outage. */
  private connectedOnce = false;
  /** Successes seen while Redis was away (with their epoch ms): cleared there when it is back, unless a failure came later. */
  private readonly pendingClears = new Map<string, number>();
  /**
   * Failures this process booked that Redis did not take: written back when it is back (as the chain's state has them
   * then). Only these, unless Redis lost its data: a cooldown this process holds from the fleet may have ended in the
   * fleet meanwhile (another call's probe answered), and writing it back would cool a model that is back.
   */
  private readonly pendingFails = new Map<string, number>();
  /** Models whose probe lease this call took and has not ended yet (`holdsLease`). */
  private readonly leases = new Set<string>();
  /** This process's writes (failures and clears) per model, in the order they were made: which one is the last word. */
  private readonly writeCount = new Map<string, number>();
  /** Calls are skipped before this instant (`pauseNow`'s time; see QUIET_AFTER_FAILURE_MS). */
  private quietUntil = 0;
  /** Counts rehearsal resets (`forgetPause`): a call's failure starts a pause only in the era it began in. */
  private pauseEra = 0;
  /** Calls under way, and who waits for none to be (`idle`). */
  private inFlight = 0;
  private idleWaiters: (() => void)[] = [];
  private watched: SharedWatch = { models: [], local: () => new Map() };
  private refreshing: Promise<boolean> | undefined;
  private refreshAgain: Promise<boolean> | undefined;
  /** Cancels the refresh's retry (see `refresh`). */
  private retry: (() => void) | undefined;
  private stopReconnecting: (() => void)[] = [];
  private closed = false;
  private slots = 0;
  /** This process's `:free` bookings still inside the minute (epoch ms, member): written back after a restart. */
  private recentSlots: { at: number; member: string }[] = [];
  /** The day's `:free` count as this process last knew it (Redis's, plus requests sent while it did not answer). */
  private dayKnown: { dayStart: number; used: number } | undefined;

  constructor(options: SharedCooldownsOptions) {
    super();
    this.owned = typeof options.redis === 'string';
    const speed = (options.clock as { speed?: number }).speed;
    const virtual = !Number.isFinite(speed ?? 1);
    this.client = (
      typeof options.redis === 'string'
        ? new Redis(options.redis, {
            // Fail at once while disconnected instead of queueing: a turn must not wait for a reconnect.
            enableOfflineQueue: false,
            maxRetriesPerRequest: 0,
            // On virtual time the clock reconnects it (redis-reconnect.ts): ioredis's own timers are wall time.
            retryStrategy: virtual ? GIVE_UP : reconnectDelay,
          })
        : options.redis
    ) as ScriptedRedis;
    this.client.defineCommand('holdlineFail', { numberOfKeys: 2, lua: FAIL_SCRIPT });
    this.client.defineCommand('holdlineClear', { numberOfKeys: 2, lua: CLEAR_SCRIPT });
    this.client.defineCommand('holdlineBook', { numberOfKeys: 4, lua: BOOK_SCRIPT });
    this.client.defineCommand('holdlineGiveBack', { numberOfKeys: 4, lua: GIVE_BACK_SCRIPT });
    this.client.defineCommand('holdlineSnapshot', { lua: SNAPSHOT_SCRIPT });
    this.client.defineCommand('holdlineFreeSeed', { numberOfKeys: 2, lua: FREE_SEED_SCRIPT });
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
    this.versionKey = `holdline:version:${keyHash}`;
    this.channel = `holdline:updates:${keyHash}`;
    // Its own connection: a subscribed connection runs no other command. It may queue while offline (no turn waits on it).
    this.mirror = new SharedMirror(this.client.duplicate({ enableOfflineQueue: true, autoResubscribe: false, lazyConnect: false }), this.channel);
    this.mirror.on('stale', () => void this.refresh());
    this.clock = options.clock;
    this.log = options.log;
    // The subscriber is a duplicate: it gave up its own reconnection too.
    if (virtual && this.owned) this.stopReconnecting = [reconnectOnClock(this.client, this.clock), reconnectOnClock(this.mirror.subscriber, this.clock)];
    this.wallTime = speed !== undefined && Number.isFinite(speed);
    this.virtual = virtual;
    this.deadlineMs = options.deadlineMs ?? (virtual ? VIRTUAL_TIME_REDIS_DEADLINE_MS : REDIS_DEADLINE_MS);
    this.freePerMinute = options.freePerMinute ?? 20;
    if (options.freePerDay !== undefined) this.perDay = { limit: options.freePerDay, source: 'config' };
  }

  /** The chain's models and its own state: what the mirror reads and what is written back after an outage. */
  watch(watch: SharedWatch): void {
    this.watched = watch;
    // Not before the client is ready: a read while it still connects would count a Redis failure (and a 'back' once
    // ready) at every job's start. Once subscribed, the mirror asks for the first snapshot itself.
    if (this.client.status === 'ready') void this.refresh();
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
    if (this.perDay?.source !== 'config' && limit > 0) {
      if (this.perDay?.limit !== limit) this.log?.info({ freePerDay: limit, source }, 'daily :free limit learned from the account');
      this.perDay = { limit, source };
    }
    if (usedToday === undefined || !(usedToday > 0)) return;
    const { dayStart } = this.day();
    this.knowDay(dayStart, Math.round(usedToday));
    await this.seedFree([]);
  }

  /** Today's UTC day on the injected clock's calendar (epoch ms). */
  private day(): { dayStart: number; dayEnd: number; nowEpoch: number } {
    const nowEpoch = Math.round(this.clock.toEpochMs(this.clock.now()));
    const dayStart = Math.floor(nowEpoch / FREE_DAY_MS) * FREE_DAY_MS;
    return { dayStart, dayEnd: dayStart + FREE_DAY_MS, nowEpoch };
  }

  private knowDay(dayStart: number, used: number): void {
    if (this.dayKnown?.dayStart === dayStart && this.dayKnown.used >= used) return;
    this.dayKnown = { dayStart, used };
  }

  /** Writes back what this process knows of today's `:free` use (raising Redis's count, never lowering it). */
  private async seedFree(slots: { at: number; member: string }[]): Promise<boolean> {
    const { dayStart, dayEnd, nowEpoch } = this.day();
    const used = this.dayKnown?.dayStart === dayStart ? this.dayKnown.used : 0;
    if (used === 0 && slots.length === 0) return true;
    const pairs = slots.flatMap((s) => [s.at, s.member]);
    const reply = await this.call('budget', () =>
      this.client.holdlineFreeSeed(this.freeDayKey, this.freeKey, dayStart, used, dayEnd - nowEpoch + FREE_WINDOW_MS, FREE_WINDOW_MS + FREE_WINDOW_MARGIN_MS, ...pairs),
    );
    return reply !== undefined;
  }

  /** @internal The chain reports the wall ms a turn's decision waited on Redis (the bench's and /metrics' histogram). */
  noteDecision(wallMs: number): void {
    this.emit('decision', wallMs);
  }

  keyOf(model: string): string {
    return this.prefix + model;
  }

  /**
   * Neither connection is up (Redis killed): what this process has seen of an outage, which a rehearsal that kills
   * Redis on virtual time waits for before time moves on (harness/play/rehearse.ts).
   */
  get disconnected(): boolean {
    return this.client.status !== 'ready' && this.mirror.subscriber.status !== 'ready';
  }

  /** True when the last Redis call answered. */
  get up(): boolean {
    return this.healthy;
  }

  /**
   * May another call's verdict end this call's wait (ChainLLM.waitForPass)? Only where scenario time follows wall
   * time: on a clock that moves only when told a message has no instant of its own (it lands wherever the clock
   * happens to be), so a wait cut short by one would play a rehearsal out two ways. There the wait runs out as planned.
   */
  get hearsVerdicts(): boolean {
    return this.wallTime;
  }

  /**
   * Calls `listener` with each model whose shared record is gone (a success cleared it, usually another call's; or a
   * snapshot after Redis lost its data); returns the unsubscribe.
   */
  onCleared(listener: (model: string) => void): () => void {
    this.mirror.on('cleared', listener);
    return () => this.mirror.off('cleared', listener);
  }

  /**
   * The shared records that changed since the last call (by model; undefined: cleared), or undefined when the chain
   * keeps its own state (Redis did not answer). Memory on wall time; a round trip only when the mirror does not
   * follow Redis (not subscribed yet, a gap) or, on a clock that moves only when told, to catch up (`caughtUp`).
   */
  async changes(): Promise<Map<string, SharedRecord | undefined> | undefined> {
    const atOnce = this.changesAtOnce();
    if (atOnce !== false) return atOnce;
    if (!this.healthy) await this.refresh();
    else if (!this.wallTime) await this.caughtUp();
    // Not following Redis (not subscribed yet, a message lost): read it now, as a decision did before the mirror.
    const fresh = this.mirror.live || (this.healthy && (await this.refresh()));
    if (!this.healthy || !fresh) return undefined;
    return this.view();
  }

  /**
   * What `changes()` resolves to when it needs no Redis call first (wall time, and the mirror follows Redis or Redis
   * does not answer), without a single await: a decision that reads memory must not queue behind the event loop's
   * other microtasks. `false`: a round trip is due (virtual time's catch-up, a mirror not following yet): `changes()`.
   */
  changesAtOnce(): Map<string, SharedRecord | undefined> | undefined | false {
    if (!this.wallTime) return false;
    if (!this.healthy) {
      // Writing back what was learned meanwhile is no turn's business on wall time: it goes on beside the turn.
      void this.refresh();
      return undefined;
    }
    return this.mirror.live ? this.view() : false;
  }

  /** The mirror's changes since the last look, as records on this clock (see `changes`). */
  private view(): Map<string, SharedRecord | undefined> {
    const nowEpoch = this.clock.toEpochMs(this.clock.now());
    const view = new Map<string, SharedRecord | undefined>();
    for (const [model, fields] of this.mirror.takeChanges()) view.set(model, fields && this.fromFields(fields, nowEpoch));
    return view;
  }

  /**
   * On a clock that moves only when told: waits (time held) until the mirror reflects every update Redis has, so a
   * decision sees what a decision at the same instant of a wall-time run would have read. One GET of the version.
   */
  private async caughtUp(): Promise<void> {
    const raw = await this.call('read', () => this.client.get(this.versionKey));
    if (raw === undefined) return;
    const version = Number(raw ?? 0);
    const known = this.mirror.version;
    if (!this.mirror.live) return; // read in full by the caller
    if (known !== undefined && version < known) this.mirror.forgetVersions(); // Redis went back: restarted or flushed
    if (known === undefined || version < known) await this.refresh();
    else if (version > known) await this.call('read', () => this.mirror.reached(version));
  }

  /**
   * Writes back what this process learned while Redis was away (when it was), then reads a snapshot of every watched
   * record into the mirror. One at a time; true when both were done.
   */
  refresh(): Promise<boolean> {
    // Asked again while one is under way (a gap found meanwhile): that one's snapshot may predate it, so read once more.
    if (this.refreshing) {
      this.refreshAgain ??= this.refreshing.then(() => {
        this.refreshAgain = undefined;
        return this.refresh();
      });
      return this.refreshAgain;
    }
    this.refreshing = this.snapshot().finally(() => {
      this.refreshing = undefined;
    });
    void this.refreshing.then((done) => {
      // The mirror cannot follow Redis without a snapshot: try again after the pause, beside any turn (wall time).
      if (done || this.mirror.live || this.retry || this.closed) return;
      this.retry = this.after(QUIET_AFTER_FAILURE_MS, () => {
        this.retry = undefined;
        if (!this.closed) void this.refresh();
      });
    });
    return this.refreshing;
  }

  private async snapshot(): Promise<boolean> {
    if (!this.healthy && !(await this.resync())) return false;
    const models = this.watched.models;
    const reply = await this.call('read', () => this.client.holdlineSnapshot(1 + models.length, this.versionKey, ...models.map((m) => this.keyOf(m))));
    if (!reply) return false;
    const [version, ...records] = reply;
    this.mirror.applySnapshot(Number(version), new Map(models.map((model, i): [string, RecordFields] => [model, toFields(records[i])])));
    return true;
  }

  /** Books a failure's cooldown (and, for the failing backend, its last error). Resolves false when Redis did not take it. */
  async fail(model: string, cooldown: Cooldown, lastError?: LastError, at?: number): Promise<boolean> {
    this.pendingClears.delete(model);
    this.writeCount.set(model, (this.writeCount.get(model) ?? 0) + 1);
    const toEpoch = (ms: number) => Math.round(this.clock.toEpochMs(ms));
    const untilEpoch = toEpoch(cooldown.until);
    const ttlMs = Math.max(0, untilEpoch - toEpoch(this.clock.now())) + GC_AFTER_END_MS;
    // When it was booked (epoch ms): its first attempt's, when it is written back after Redis did not take it.
    const bookedAt = at ?? toEpoch(this.clock.now());
    const args = [
      this.channel,
      model,
      untilEpoch,
      cooldown.cls,
      // No streak: a cooldown that is no failure of the model's own (keyWideFree, an empty :free budget) keeps the fleet's.
      cooldown.streak ?? '',
      cooldown.guessed ? 1 : 0,
      cooldown.since === undefined ? '' : toEpoch(cooldown.since),
      lastError?.class ?? '',
      lastError?.detail ?? '',
      lastError ? toEpoch(lastError.at) : '',
      ttlMs,
      this.caller,
      bookedAt,
    ];
    this.leases.delete(model); // the verdict ends this call's lease (FAIL_SCRIPT)
    const written = this.writeCount.get(model);
    // Pending until Redis takes it: a write-back that runs meanwhile (the failure of this very call may start one)
    // writes it too.
    this.pendingFails.set(model, bookedAt);
    const landed = this.mirror.ownWrite(model);
    const version = await this.call('fail', () => this.client.holdlineFail(this.keyOf(model), this.versionKey, ...args));
    landed(version);
    if (version !== undefined) {
      this.mirror.saw(version);
      if (this.writeCount.get(model) === written) this.pendingFails.delete(model);
    }
    return version !== undefined;
  }

  /** A success forgets the model's failures fleet-wide (and ends any probe lease on it). */
  async clear(model: string, at?: number): Promise<boolean> {
    this.pendingFails.delete(model);
    this.leases.delete(model);
    const landed = this.mirror.ownWrite(model);
    const written = (this.writeCount.get(model) ?? 0) + 1;
    this.writeCount.set(model, written);
    // Pending until Redis takes it (written back when it answers again), unless a later failure of this process is the
    // model's last word by then (`fail` drops it: the clear goes at the answer's first token, and a failure later in
    // the same answer may be booked before it times out).
    this.pendingClears.set(model, at ?? Math.round(this.clock.toEpochMs(this.clock.now())));
    const version = await this.call('clear', () => this.client.holdlineClear(this.keyOf(model), this.versionKey, this.channel, model, at ?? ''));
    landed(version);
    const done = version !== undefined;
    if (done) {
      this.mirror.saw(version);
      if (this.writeCount.get(model) === written) this.pendingClears.delete(model);
    }
    return done;
  }

  /**
   * The one round trip a decision may make: may this call ask `model` now? Takes the probe lease when its cooldown has
   * ended (until `leaseEnd`, scenario ms) and, for a `:free` model, a slot of the key's budget (`limit` a minute and
   * the day's limit, fleet-wide) — both or neither. Granted when Redis does not answer: in-process state decides.
   * Refused: the scenario ms until which to wait, and why (another call's cooldown or probe, the minute or the day).
   */
  async book(model: string, { leaseEnd, free, early = false }: { leaseEnd: number; free: boolean; early?: boolean }): Promise<Booking> {
    // On a clock that moves only when told the mirror must have what Redis has before it answers for Redis: a hedge
    // books without its turn's catch-up (`changes`), and a message on its way would refuse it on one run only.
    if (!this.wallTime && this.healthy) await this.caughtUp();
    const now = this.clock.now();
    const { dayStart, dayEnd, nowEpoch } = this.day();
    const limit = this.freePerMinute;
    const perDay = this.perDay?.limit ?? 0;
    const windowEpochMs = Math.max(1, Math.round(this.clock.toEpochMs(now + FREE_WINDOW_MS + FREE_WINDOW_MARGIN_MS)) - nowEpoch);
    const budget = free && (limit > 0 || perDay > 0);
    const member = budget ? `${this.caller}:${++this.slots}` : '';
    // No minute budget (0): a limit no window reaches, so the script checks the day alone.
    const minuteLimit = limit === 0 ? Number.MAX_SAFE_INTEGER : limit;
    const known = this.refusedByMirror(model, now, nowEpoch, early);
    if (known) return known;
    const keys = [this.keyOf(model), this.versionKey, this.freeKey, this.freeDayKey];
    const headStart = Math.max(1, Math.round(this.clock.toEpochMs(now + PROBE_HEAD_START_MS)) - nowEpoch);
    const args = [this.channel, model, nowEpoch, Math.round(this.clock.toEpochMs(leaseEnd)), this.caller, budget ? 1 : 0, windowEpochMs, minuteLimit, member, dayStart, dayEnd, perDay, headStart, early ? 1 : 0];
    const started = performance.now();
    const reply = await this.call('book', () => this.client.holdlineBook(...keys, ...args));
    this.emit('booking', performance.now() - started);
    if (reply === undefined) {
      // Sent without a slot: OpenRouter counts it, so this process does too (written back when Redis is back).
      if (budget) this.knowDay(dayStart, (this.dayKnown?.dayStart === dayStart ? this.dayKnown.used : 0) + 1);
      return { granted: true };
    }
    if (reply[0] === 1) {
      if (reply[2] === 1) this.leases.add(model);
      if (!budget) return { granted: true };
      this.knowDay(dayStart, Number(reply[1]));
      // In place, oldest first: a booking costs no copy of the window (nor garbage for the collector to pause on).
      while (this.recentSlots.length > 0 && (this.recentSlots[0] as { at: number }).at <= nowEpoch - windowEpochMs) this.recentSlots.shift();
      this.recentSlots.push({ at: nowEpoch, member });
      return { granted: true, slot: member };
    }
    const at = this.clock.fromEpochMs(Number(reply[1]));
    const why = reply[2] as Exclude<Booking, { granted: true }>['why'];
    // Another call probes: look again within a second rather than at the lease's end (its verdict may come at once).
    const until = why === 'probing' ? Math.min(at, now + PROBE_RECHECK_MS) : at;
    const refused: Booking = { granted: false, until, why, cls: (reply[3] || 'rate-limit') as FailureClass };
    if (why !== 'cooling') return refused;
    const streak = Number(reply[5]);
    return { ...refused, guessed: reply[4] === '1', ...(streak > 0 && { streak }) };
  }

  /**
   * The booking's answer when this process's mirror already says it, without the round trip: another call holds the
   * probe lease, or has the head start on it (the call that met the failure, BOOK_SCRIPT). Redis would refuse the
   * same; a verdict on its way meanwhile is heard by the next look (within PROBE_RECHECK_MS, or the head start's end),
   * as after a refusal from Redis. Anything else (the lease to take, a `:free` slot) is Redis's to say.
   */
  private refusedByMirror(model: string, now: number, nowEpoch: number, early: boolean): Booking | undefined {
    const fields = this.healthy ? this.mirror.fieldsOf(model) : undefined;
    if (fields?.until === undefined) return undefined;
    const untilEpoch = Number(fields.until);
    // Still cooling: Redis says whether a guess lets this early probe take the lease (or another call's lease refuses it).
    if (untilEpoch > nowEpoch && !early) return undefined;
    const lease = fields.probeUntil === undefined ? undefined : Number(fields.probeUntil);
    const leased = lease !== undefined && lease > nowEpoch;
    const cls = (fields.cls || 'rate-limit') as FailureClass;
    if (leased && fields.probeBy !== this.caller) return { granted: false, until: Math.min(this.clock.fromEpochMs(lease), now + PROBE_RECHECK_MS), why: 'probing', cls };
    if (untilEpoch > nowEpoch) return undefined;
    const headStartEnd = this.clock.fromEpochMs(untilEpoch) + PROBE_HEAD_START_MS;
    if (!leased && fields.nextBy !== undefined && fields.nextBy !== this.caller && now < headStartEnd) return { granted: false, until: headStartEnd, why: 'probing', cls };
    return undefined;
  }

  /**
   * Did this call take `model`'s probe lease, with no verdict booked since (a failure or success ends it, a give-back
   * returns it)? What Redis answered the booking, not the mirror: the lease's own message may still be on its way.
   */
  holdsLease(model: string): boolean {
    return this.leases.has(model);
  }
  /** May this call probe `model`, whose cooldown ended? A booking without a `:free` slot (tests and tools). */
  async claimProbe(model: string, leaseEnd: number): Promise<{ granted: true } | { granted: false; until: number }> {
    const booking = await this.book(model, { leaseEnd, free: false });
    return booking.granted ? { granted: true } : { granted: false, until: booking.until };
  }

  /**
   * Gives back what a booking took for a request never sent (a hedge picked too late): this call's probe lease on
   * `model`, if it holds one, and the `:free` slot `slot`, if one was booked. Atomic.
   */
  async giveBack(model: string, slot?: string): Promise<void> {
    this.leases.delete(model);
    const { dayStart } = this.day();
    const booked = slot === undefined ? undefined : this.recentSlots.find((s) => s.member === slot);
    if (booked) {
      this.recentSlots = this.recentSlots.filter((s) => s !== booked);
      // Today's count as this process knows it (written back after a Redis restart) had it: it goes back there too.
      const known = this.dayKnown;
      if (known && known.dayStart === dayStart && booked.at >= dayStart && known.used > 0) this.dayKnown = { dayStart, used: known.used - 1 };
    }
    await this.call('give-back', () => this.client.holdlineGiveBack(this.keyOf(model), this.versionKey, this.freeKey, this.freeDayKey, this.channel, model, this.caller, slot ?? '', dayStart));
  }

  async close(): Promise<void> {
    this.closed = true;
    this.retry?.();
    for (const stop of this.stopReconnecting) stop();
    this.removeAllListeners();
    this.client.off('error', this.onError);
    this.client.off('close', this.onClose);
    this.client.off('ready', this.onReady);
    await this.mirror.close();
    if (!this.owned) return;
    await disconnected(this.client);
  }

  private readonly onError = (error: Error): void => this.failed('connection', 'error', error);
  private readonly onClose = (): void => this.failed('connection', 'disconnected');
  private readonly onReady = (): void => {
    this.connectedOnce = true;
    this.quietUntil = 0;
    // Back after an outage: what this process learned meanwhile is written back now, not at its next decision, which
    // may never come (a call with no more turns would keep a 429 the fleet needs to itself).
    if (!this.healthy) {
      this.emit('back');
      void this.refresh();
    }
  };

  /**
   * A rehearsal reset (`ChainLLM.reset`): scenario time went back to 0, so a pause after a failure (`quietUntil`, on the
   * clock's time when virtual) would otherwise skip Redis for as long as the last rehearsal had run. The next call tries
   * Redis again; a Redis still failing starts a new pause.
   */
  forgetPause(): void {
    this.quietUntil = 0;
    // A call still under way from before the reset must not start a new pause on the new timeline when it fails, and a
    // retry scheduled on the old one goes: the next decision refreshes what it needs.
    this.pauseEra += 1;
    this.retry?.();
    this.retry = undefined;
  }

  /** True while a Redis call of this store is under way. */
  get busy(): boolean {
    return this.inFlight > 0;
  }

  /** Resolves once no Redis call of this store is under way (tests drive virtual time only then). */
  idle(): Promise<void> {
    return this.inFlight === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Writes back what this process learned while Redis was away: its live cooldowns, the successes it saw, and what
   * it knows of the key's `:free` use (a restarted Redis is empty: the day's count and this minute's slots would
   * start again from 0, and the fleet would send what OpenRouter refuses). True when Redis took it all.
   */
  private async resync(): Promise<boolean> {
    if (this.client.status !== 'ready') {
      this.failed('read', 'disconnected');
      return false;
    }
    // What the mirror saw before this write-back (its own writes' versions count from here on).
    const seen = this.mirror.seen();
    const now = this.clock.now();
    const { nowEpoch } = this.day();
    const local = this.watched.local();
    const live = [...local].filter(([, cooldown]) => cooldown.until > now);
    // A pending failure whose cooldown has ended (or a success replaced) is nothing to write back, now or later.
    for (const [model] of this.pendingFails) if (!((local.get(model)?.until ?? 0) > now)) this.pendingFails.delete(model);
    // All at once, one deadline for the lot: what Redis never took, and its version counter (read first on this
    // connection, so before these writes): did Redis keep its data?
    // The counter matters only when something live is not pending (it goes back only if Redis lost its data).
    const asks = live.some(([model]) => !this.pendingFails.has(model));
    const [counter, ...written] = await Promise.all([
      asks ? this.call('read', () => this.client.get(this.versionKey)) : Promise.resolve(null),
      ...[...this.pendingClears].map(([model, at]) => this.clear(model, at)),
      ...live.filter(([model]) => this.pendingFails.has(model)).map(([model, cooldown]) => this.fail(model, cooldown, undefined, this.pendingFails.get(model))),
      this.seedFree(this.recentSlots.filter((s) => s.at > nowEpoch - FREE_WINDOW_MS - FREE_WINDOW_MARGIN_MS)),
    ]);
    if (counter === undefined || written.includes(false)) return false;
    // Redis lost its data (the versions went back, or its counter is behind what the mirror saw): everything this
    // process holds goes back, the fleet forgot it all. Otherwise the rest is the fleet's, and may have changed there.
    const lost = asks && (seen.wentBack || (counter === null ? seen.highest > 0 : Number(counter) < seen.highest));
    if (lost && (await Promise.all(live.map(([model, cooldown]) => this.fail(model, cooldown)))).includes(false)) return false;
    if (asks) this.mirror.resynced(counter === null ? null : Number(counter));
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
    if (this.client.status !== 'ready' || this.pauseNow() < this.quietUntil) {
      this.failed(op, 'disconnected');
      return undefined;
    }
    const era = this.pauseEra;
    this.inFlight += 1;
    // A reply on its way over a plain socket is work a virtual clock cannot see by itself (contract/time/held.ts).
    const release = holdTime();
    let timer: NodeJS.Timeout | undefined;
    try {
      // One promise settled by whichever comes first, the reply or the deadline (no race of two, less garbage a call).
      // The deadline is called after the event loop's next poll for I/O (setImmediate): when this process had no core
      // (or its loop was busy) past the deadline, the reply may already be waiting on the socket, and Node runs due
      // timers before it reads sockets. Redis answered in time then; only a reply still missing after that poll is late.
      const result = await new Promise<T | typeof TIMED_OUT>((resolve, reject) => {
        timer = setTimeout(() => setImmediate(resolve, TIMED_OUT), this.deadlineMs);
        run().then(resolve, reject);
      });
      if (result === TIMED_OUT) {
        this.failed(op, 'timeout', undefined, era);
        return undefined;
      }
      return result;
    } catch (error) {
      this.failed(op, 'error', error as Error, era);
      return undefined;
    } finally {
      release();
      clearTimeout(timer);
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private failed(op: string, reason: SharedFailureReason, error?: Error, era = this.pauseEra): void {
    const label = `${op}:${reason}`;
    this.failures.set(label, (this.failures.get(label) ?? 0) + 1);
    if (reason !== 'disconnected' && era === this.pauseEra) this.quietUntil = this.pauseNow() + QUIET_AFTER_FAILURE_MS;
    this.healthy = false; // what was learned meanwhile is written back before the mirror is trusted again
    if (this.outage || (!this.connectedOnce && reason === 'disconnected')) return;
    this.outage = true;
    // The error's code or message only: ioredis messages name host and port, never the URL's password.
    const detail = (error as { code?: string } | undefined)?.code ?? error?.message ?? reason;
    this.log?.warn({ redis: 'down', op, reason, detail }, 'redis did not answer: going on with in-process cooldowns');
    this.emit('down', { op, reason });
  }

  /**
   * The time the pause after a failure runs on: wall ms (it spares a slow Redis, whatever the speed); on virtual time
   * the clock's, or the pause would end at a different instant of the rehearsal on every run.
   */
  private pauseNow(): number {
    return this.virtual ? this.clock.now() : Date.now();
  }

  /** Runs `fn` after `ms` of the pause's time (see `pauseNow`); returns the function that cancels it. */
  private after(ms: number, fn: () => void): () => void {
    if (this.virtual) return this.clock.schedule(fn, ms);
    const timer = setTimeout(fn, ms).unref();
    return () => clearTimeout(timer);
  }

  private fromFields(fields: Record<string, string>, nowEpoch: number): SharedRecord | undefined {
    if (fields.until === undefined) return undefined;
    const untilEpoch = Number(fields.until);
    const leaseEpoch = fields.probeUntil === undefined ? undefined : Number(fields.probeUntil);
    // Another call is probing: cooling until its verdict, a known end (not our guess, so nobody probes instead of holding).
    const leased = leaseEpoch !== undefined && leaseEpoch > nowEpoch && fields.probeBy !== this.caller && untilEpoch <= nowEpoch;
    // Another call met the failure and has the head start on the probe (BOOK_SCRIPT): this call's wait ends with the
    // head start, so it does not even wake at the end, when the named call books (on a busy machine the wake-ups of a
    // whole fleet at one instant kept that booking from a core).
    const headStart = fields.nextBy !== undefined && fields.nextBy !== this.caller && !(leaseEpoch !== undefined && leaseEpoch > nowEpoch) ? PROBE_HEAD_START_MS : 0;
    const cooldown: Cooldown = {
      until: leased ? Math.min(this.clock.fromEpochMs(leaseEpoch as number), this.clock.now() + PROBE_RECHECK_MS) : this.clock.fromEpochMs(untilEpoch) + headStart,
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

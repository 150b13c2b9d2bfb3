/**
 * This process's copy of the fleet's cooldown records, kept by Redis pub/sub, so a turn's decision reads memory
 * instead of waiting for a read of Redis (the one round trip left on a turn's path is a booking: a probe lease or a
 * `:free` slot, shared-cooldowns.ts). Every script that changes a record bumps the key's version counter and
 * publishes the record as it now is (shared-scripts.ts); a subscriber connection of its own applies those messages
 * in order. On every (re)subscription, after a gap in the versions, or when the versions go back (Redis restarted or
 * was flushed), the store reads a snapshot of every record at one version and hands it here (`applySnapshot`).
 *
 * Versions decide what is newer: a record is replaced only by a message or snapshot of a later version than the one
 * it came from, so a snapshot read while messages were on their way never undoes them, nor they it. The same goes
 * for this process's own writes (`ownWrite`): while one is on its way the model's changes wait, and once Redis
 * answered with the write's version, anything older is dropped. A message published before the write landed (another
 * call's older failure, a success cleared before this call failed again) arriving after this process booked the
 * newer state locally would otherwise undo it until the write's own message came.
 *
 * Hand-written over ioredis's subscriber mode: no library keeps a versioned mirror of Redis hashes.
 */
import { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import { holdTime } from '../../contract/time/held.js';

/**
 * Closes an ioredis connection and waits until it is gone: a live one ends with an 'end' event; one that is
 * reconnecting just stops trying (ioredis emits nothing then).
 */
export async function disconnected(client: Redis): Promise<void> {
  const connected = client.status === 'ready' || client.status === 'connect';
  const ended = connected ? new Promise((resolve) => client.once('end', resolve)) : undefined;
  client.disconnect();
  await ended;
}

/** Wall ms a subscription may hold time (see onReady). */
const SUBSCRIBE_HOLD_MS = 2_000;

/** A record's Redis hash fields, or undefined when it is gone (a success cleared it). */
export type RecordFields = Record<string, string> | undefined;

interface Entry {
  fields: RecordFields;
  /** The version it was read or announced at; -1 after the versions went back (any later word replaces it). */
  version: number;
}

/**
 * Emits 'stale' when it cannot trust its copy until a snapshot (it just subscribed, missed a message, or the
 * versions went back): the store answers with `applySnapshot`; 'live' when it follows Redis again; 'cleared'
 * (model) when a record it held is gone (a success cleared it), by message or snapshot.
 */
export class SharedMirror extends EventEmitter {
  private readonly entries = new Map<string, Entry>();
  /** Models whose record changed since the chain last took the changes (`takeChanges`). */
  private readonly changed = new Set<string>();
  /** The last version a message carried (messages come in version order on one connection); undefined until one. */
  private lastMessage: number | undefined;
  /** The latest version this copy reflects, by message or snapshot; undefined until the first snapshot. */
  private known: number | undefined;
  /**
   * The highest version this copy has seen since the store last wrote its state back, and whether the versions went
   * back meanwhile: together, whether Redis lost its data while the store was away (`SharedCooldowns.resync`).
   */
  private highest = 0;
  private wentBack = false;
  /** Subscribed, and a snapshot applied since: the copy follows Redis. */
  private following = false;
  /**
   * The highest version a message was lost at (a gap: 0 when none): only a snapshot read at or after it covers the
   * loss. One read before the gap was found (a refresh already on its way) must not make the copy follow again: the
   * store's next snapshot, asked for by the gap, does.
   */
  private lostUpTo = 0;
  private subscribed = false;
  private readonly waiters: { version: number; resolve: () => void }[] = [];
  /** This process's writes per model: how many are on their way, and the version the last one landed at. */
  private readonly writes = new Map<string, { pending: number; landed: number }>();
  /** Goes up when the versions are forgotten: a write's answer from before then says nothing of the new versions. */
  private generation = 0;

  constructor(
    readonly subscriber: Redis,
    private readonly channel: string,
  ) {
    super();
    subscriber.on('ready', this.onReady);
    subscriber.on('close', this.onClose);
    subscriber.on('message', this.onMessage);
    // Reported by the command connection's outage logging; without a listener ioredis prints them.
    subscriber.on('error', () => undefined);
    if (subscriber.status === 'ready') this.onReady();
  }

  /** True while the copy follows Redis: a decision may read it instead of Redis. */
  get live(): boolean {
    return this.following && this.subscribed;
  }

  /** The latest version this copy reflects (undefined before its first snapshot). */
  get version(): number | undefined {
    return this.known;
  }

  /**
   * The records that changed since the last call (undefined: gone), and forgets they did. The chain applies them to
   * its own cooldowns; records that did not change leave what it learned itself alone.
   */
  takeChanges(): Map<string, RecordFields> {
    const out = new Map<string, RecordFields>();
    for (const model of this.changed) {
      const write = this.writes.get(model);
      // A write of ours on its way: the chain's own state is newer than anything heard until it lands.
      if (write && write.pending > 0) continue;
      this.changed.delete(model);
      const entry = this.entries.get(model);
      // Older than our last write (published before it landed): the write's own message, or a snapshot, follows.
      if (write && entry && entry.version >= 0 && entry.version < write.landed) continue;
      out.set(model, entry?.fields);
    }
    return out;
  }

  /**
   * `model`'s record as this copy holds it, for a decision to read instead of Redis: undefined while the copy does not
   * follow Redis or a write of ours to it is on its way (what it holds may be older than what this process knows).
   */
  fieldsOf(model: string): RecordFields {
    if (!this.live || (this.writes.get(model)?.pending ?? 0) > 0) return undefined;
    return this.entries.get(model)?.fields;
  }

  /**
   * This process is writing `model`'s record (its own failure or success, already booked in the chain's state): its
   * changes wait until the returned function is called with the version Redis answered (undefined: no answer; the
   * store then resyncs the chain's state to Redis before the mirror is trusted again).
   */
  ownWrite(model: string): (version?: number) => void {
    const write = this.writes.get(model) ?? { pending: 0, landed: -1 };
    write.pending += 1;
    this.writes.set(model, write);
    const generation = this.generation;
    return (version) => {
      write.pending -= 1;
      if (version !== undefined && generation === this.generation) write.landed = Math.max(write.landed, version);
    };
  }

  /** A snapshot read at `version`: every record of `models` as it was then. */
  applySnapshot(version: number, records: ReadonlyMap<string, RecordFields>): void {
    for (const [model, fields] of records) this.put(model, fields, version);
    this.known = Math.max(this.known ?? version, version, this.lastMessage ?? version);
    if (this.subscribed && !this.following && version >= this.lostUpTo) {
      this.following = true;
      this.emit('live');
    }
    this.wake();
  }

  /** Resolves once the copy reflects `version` (a decision on virtual time waits for what Redis already has). */
  reached(version: number): Promise<void> {
    if (this.known !== undefined && this.known >= version) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ version, resolve }));
  }

  /** A version this process learned from a reply of its own (a write's announce): one more the counter reached. */
  saw(version: number): void {
    this.highest = Math.max(this.highest, version);
  }

  /** What this copy has seen since the store last wrote its state back: the highest version, and whether they went back. */
  seen(): { highest: number; wentBack: boolean } {
    return { highest: this.highest, wentBack: this.wentBack };
  }

  /** The store wrote its state back, Redis's counter then at `counter` (null: none): the next look starts there. */
  resynced(counter: number | null): void {
    this.wentBack = false;
    this.highest = Math.max(this.highest, counter ?? 0);
  }

  /**
   * Forgets its versions (Redis lost its data: any word from it is newer than what this copy holds). Waiters for a
   * version are let go: that version belonged to the Redis that is gone, the new one may never reach it, and a waiter
   * let go finds the copy not following and reads a snapshot instead (`SharedCooldowns.changes`).
   */
  forgetVersions(): void {
    for (const entry of this.entries.values()) entry.version = -1;
    for (const write of this.writes.values()) write.landed = -1;
    this.generation += 1;
    this.lastMessage = undefined;
    this.known = undefined;
    this.lostUpTo = 0;
    this.following = false;
    for (const { resolve } of this.waiters.splice(0)) resolve();
  }

  async close(): Promise<void> {
    this.subscriber.off('ready', this.onReady);
    this.subscriber.off('close', this.onClose);
    this.subscriber.off('message', this.onMessage);
    for (const { resolve } of this.waiters.splice(0)) resolve();
    await disconnected(this.subscriber);
  }

  private put(model: string, fields: RecordFields, version: number): void {
    this.highest = Math.max(this.highest, version);
    const entry = this.entries.get(model);
    if (entry && entry.version >= version) return;
    this.entries.set(model, { fields, version });
    this.changed.add(model);
    // A record gone is a success somewhere in the fleet (a probe answered; or Redis lost its data): a call waiting on
    // it may go now.
    if (entry?.fields !== undefined && fields === undefined) this.emit('cleared', model);
  }

  private readonly onReady = (): void => {
    // A reply on its way over a plain socket: on virtual time a decision must not run before this subscription (and
    // the snapshot it asks for) is in place, or a message published meanwhile would be lost to it on one run only.
    // At most SUBSCRIBE_HOLD_MS of wall time: a Redis that accepted the connection and answers nothing must not
    // freeze the clock (the subscription then completes, or fails, on its own).
    const release = holdTime();
    const bound = setTimeout(release, SUBSCRIBE_HOLD_MS).unref();
    // Messages published before this subscription are lost to it: a snapshot taken after it covers them.
    this.subscriber
      .subscribe(this.channel)
      .then(
        () => {
          this.subscribed = true;
          this.emit('stale');
        },
        () => undefined, // the connection dropped again: the next 'ready' subscribes
      )
      .finally(() => {
        clearTimeout(bound);
        release();
      });
  };

  private readonly onClose = (): void => {
    this.subscribed = false;
    // Redis may come back restarted, its versions from 1 again: the next snapshot and messages are newer whatever they say.
    this.forgetVersions();
  };

  private readonly onMessage = (channel: string, text: string): void => {
    if (channel !== this.channel) return;
    let version: number;
    let model: string;
    let flat: unknown;
    try {
      [version, model, flat] = JSON.parse(text) as [number, string, unknown];
    } catch {
      return; // not ours: nothing in the fleet publishes anything else on this channel
    }
    if (typeof version !== 'number' || typeof model !== 'string') return;
    if (this.lastMessage !== undefined && version <= this.lastMessage) {
      // The versions went back: Redis restarted or was flushed. Whatever it says now is newer than what is held.
      this.forgetVersions();
      this.wentBack = true;
      this.emit('stale');
    } else if (this.lastMessage !== undefined && version !== this.lastMessage + 1) {
      this.following = false;
      this.lostUpTo = Math.max(this.lostUpTo, version - 1);
      this.emit('stale'); // a message was lost (the connection's buffer overflowed): read the lot again
    }
    this.lastMessage = version;
    this.put(model, toFields(flat), version);
    if (this.known !== undefined) this.known = Math.max(this.known, version);
    this.wake();
  };

  private wake(): void {
    if (this.known === undefined) return;
    const known = this.known;
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      const waiter = this.waiters[i] as { version: number; resolve: () => void };
      if (waiter.version <= known) {
        this.waiters.splice(i, 1);
        waiter.resolve();
      }
    }
  }
}

/** HGETALL's flat [field, value, ...] (cjson encodes an empty one as {}) as a record; no fields: gone. */
export function toFields(flat: unknown): RecordFields {
  if (!Array.isArray(flat) || flat.length === 0) return undefined;
  const fields: Record<string, string> = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[String(flat[i])] = String(flat[i + 1]);
  return fields;
}

/**
 * What `GET /events` replays, and what one replay may cost. Each event is serialised once, as its SSE frame with an
 * `id:` (ids count up for the life of the process, across resets, so a `Last-Event-ID` from before a reset still
 * orders). A subscriber resumes after the id it last saw (`Last-Event-ID`, or `?since=<id>`); a new one gets the
 * history since the last reset. One replay sends at most `REPLAY_MAX_EVENTS` events and `REPLAY_MAX_BYTES`; when
 * more remain it ends with an `event: more` frame and closes, and the subscriber reconnects with the last id it
 * got (what EventSource does by itself), so a long history costs many small replays, never one huge buffer per
 * subscriber. Events evicted from a full history are announced as `event: dropped` with their count.
 */
import type { AgentEvent } from '../../contract/events.js';

/** Events kept since the last reset; a rehearsal is minutes long, this is plenty and bounded. */
export const HISTORY_LIMIT = 50_000;
/** Most events one replay sends before `event: more`. */
export const REPLAY_MAX_EVENTS = 5_000;
/** Most bytes one replay sends before `event: more` (an event is ~300 bytes: some 800 events a page). */
export const REPLAY_MAX_BYTES = 256 * 1024;
/**
 * Most `GET /events` streams open at once (the runner uses one, a dashboard a few). With the page bound, what
 * subscribers that do not read can pin is at most this many pages: 16 MiB.
 */
export const MAX_SUBSCRIBERS = 64;

interface Frame {
  id: number;
  text: string;
  bytes: number;
}

export interface Replay {
  /** SSE text to write: an optional `dropped` frame, then the events. */
  text: string;
  /** Events after this page, not sent (0: the subscriber is up to date and stays subscribed). */
  remaining: number;
}

export class EventHistory {
  private frames: Frame[] = [];
  /** First index of `frames` still kept (evicted ones are spliced off in batches, not one shift per event). */
  private start = 0;
  private lastId = 0;
  /** The highest id evicted by the limit since the last reset (not by a reset, which forgets on purpose). */
  private evictedThrough = 0;

  constructor(
    private readonly limits = { history: HISTORY_LIMIT, events: REPLAY_MAX_EVENTS, bytes: REPLAY_MAX_BYTES },
  ) {}

  /** Adds an event; returns its frame for the live subscribers. */
  push(event: AgentEvent): string {
    const id = ++this.lastId;
    const text = `id: ${id}\ndata: ${JSON.stringify(event)}\n\n`;
    const frame = { id, text, bytes: Buffer.byteLength(text) };
    this.frames.push(frame);
    if (this.frames.length - this.start > this.limits.history) {
      this.evictedThrough = (this.frames[this.start] as Frame).id;
      this.start++;
      if (this.start >= this.limits.history) {
        this.frames = this.frames.slice(this.start);
        this.start = 0;
      }
    }
    return frame.text;
  }

  /** Forgets every event (ids keep counting). */
  clear(): void {
    this.frames = [];
    this.start = 0;
    this.evictedThrough = 0;
  }

  /** The page of events after `afterId` (0: from the start of the history). */
  replay(afterId: number): Replay {
    let text = '';
    const firstKept = this.frames[this.start]?.id ?? this.lastId + 1;
    const lost = Math.min(this.evictedThrough, firstKept - 1) - afterId;
    if (lost > 0) text += `event: dropped\ndata: ${JSON.stringify({ dropped: lost })}\n\n`;

    let i = this.indexAfter(afterId);
    let sent = 0;
    let bytes = 0;
    for (; i < this.frames.length; i++) {
      const frame = this.frames[i] as Frame;
      // At least one event per page, however large, so a replay always moves on.
      if (sent === this.limits.events || (sent > 0 && bytes + frame.bytes > this.limits.bytes)) break;
      text += frame.text;
      bytes += frame.bytes;
      sent++;
    }
    return { text, remaining: this.frames.length - i };
  }

  /** Index of the first kept frame with an id above `afterId` (ids are sorted: binary search). */
  private indexAfter(afterId: number): number {
    let lo = this.start;
    let hi = this.frames.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.frames[mid] as Frame).id <= afterId) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

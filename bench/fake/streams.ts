/**
 * Many concurrent streams against a reply scripted at a known ttft and rate, timing every content chunk as it
 * arrives. Reports how far the observed first token is from the script (ttft error), from two starts: the
 * client's send and the fake's receipt; how far each inter-token gap is from 1 / tokensPerSecond (gap error),
 * and how late each token is against its scripted instant from the send (lateness).
 *
 * The client is undici, on a pool of keep-alive connections opened before the clock starts (as a fleet's
 * processes hold theirs). A stream's send is stamped when its bytes have left: undici publishes
 * `undici:request:bodySent` right after it wrote the request to the socket. Stamping when the code asks instead
 * (as this did with node:http) counted the client's own queue: 200 requests asked for in one loop are written
 * to their sockets 15 to 30 ms later, after the loop. Timestamps are epoch ms (`performance.timeOrigin + now()`),
 * so they compare with the fake's receipts (the journal's `originEpochMs + at`, from the same system clock).
 */
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { performance } from 'node:perf_hooks';
import { Pool, type Dispatcher } from 'undici';
import { round2, summary } from './stats.js';

export interface StreamOptions {
  url: string;
  body: string;
  headers: Record<string, string>;
  streams: number;
  ttftMs: number;
  tokensPerSecond: number;
  /** Called once the connections are open and before the streams start (the bench resets the fake there). */
  beforeStreams?: () => Promise<void>;
  /** The fake's receipt of each stream request, epoch ms in the order it read them (its journal). */
  receipts: () => Promise<number[]>;
}

type Summary = { p50: number; p99: number };

export interface StreamResult {
  streams: number;
  completed: number;
  tokensPerStream: number;
  /** From when the client's request had left (its bytes written to the socket). */
  ttftErrorMs: Summary;
  /** From when the fake read the request (its journal's arrival, whole ms): what the fake times its reply from. */
  ttftFromReceiptErrorMs: Summary;
  /** From the send to the fake's receipt: the time a request waited in the sockets and the fake's queue. */
  sendToReceiptMs: Summary;
  /** The smallest send to receipt: below 0 only by the journal's whole-ms rounding down, or a receipt stamped too early. */
  sendToReceiptMinMs: number;
  /**
   * The client's own part of `ttftErrorMs`: from the start of the client's event-loop phase that read a stream's
   * first token to when its handler got to it (the phase's other streams' chunks handled first). Counted in
   * `ttftErrorMs` all the same; reported so that a client's loop is not mistaken for the fake's lateness.
   */
  clientReadDelayMs: Summary;
  /** `ttftErrorMs` with the first token stamped at the start of the client's phase that read it. */
  ttftErrorAtClientReadMs: Summary;
  gapErrorMs: Summary;
  latenessMs: Summary;
  /** First to last send, and first to last receipt, ms. */
  sendSpreadMs: number;
  receiptSpreadMs: number;
}

interface Timed {
  /** Epoch ms when the request's bytes had been written. */
  sentAt: number;
  /** The fake's number of this generation (`created` in its id): the order it handled the requests in. */
  created: number;
  /** Epoch ms each content chunk arrived. */
  times: number[];
  /** Epoch ms the client's event-loop phase that read the first content chunk began (ReadPhase). */
  firstPhaseAt: number;
}

const now = () => performance.timeOrigin + performance.now();

/**
 * When the client's current phase of reading began: its first chunk handler's stamp, shared by every handler
 * in the same event-loop phase until the `setImmediate` after it (the data of all of them was in the client's
 * sockets by then). The gap to a handler's own stamp is the client's own delay in reading that chunk.
 */
class ReadPhase {
  private stamp: number | undefined;
  private readonly clear = () => {
    this.stamp = undefined;
  };

  at(handledAt: number): number {
    if (this.stamp === undefined) {
      this.stamp = handledAt;
      setImmediate(this.clear);
    }
    return this.stamp;
  }
}

/** Which stream each undici request belongs to, from its creation (synchronous inside `dispatch`) on. */
class SendStamps {
  private readonly owners = new WeakMap<object, Timed>();
  private dispatching: Timed | undefined;
  private readonly onCreate = (message: unknown) => {
    if (this.dispatching) this.owners.set((message as { request: object }).request, this.dispatching);
  };
  private readonly onSent = (message: unknown) => {
    const at = now();
    const timed = this.owners.get((message as { request: object }).request);
    if (timed) timed.sentAt = at;
  };

  constructor() {
    subscribe('undici:request:create', this.onCreate);
    subscribe('undici:request:bodySent', this.onSent);
  }

  /** Runs `dispatch` with its request's send to be stamped on `timed`. */
  dispatch(timed: Timed, dispatch: () => void): void {
    this.dispatching = timed;
    try {
      dispatch();
    } finally {
      this.dispatching = undefined;
    }
  }

  close(): void {
    unsubscribe('undici:request:create', this.onCreate);
    unsubscribe('undici:request:bodySent', this.onSent);
  }
}

/** One stream's chunk times; null if it failed or was never stamped as sent. */
function oneStream(pool: Pool, stamps: SendStamps, phase: ReadPhase, options: StreamOptions, path: string, body: Buffer): Promise<Timed | null> {
  return new Promise((resolve) => {
    const timed: Timed = { sentAt: Number.NaN, created: Number.NaN, times: [], firstPhaseAt: Number.NaN };
    const decoder = new TextDecoder();
    let status = 0;
    let buffer = '';
    const handler: Dispatcher.DispatchHandler = {
      onRequestStart() {},
      onResponseStart(_controller, statusCode, headers) {
        status = statusCode;
        // `gen-<created>-...`: the fake numbers a model's generations in the order it handles the requests.
        timed.created = Number(String(headers['x-generation-id'] ?? '').split('-')[1]);
      },
      onResponseData(_controller, chunk) {
        const at = now();
        const phaseAt = phase.at(at);
        buffer += decoder.decode(chunk, { stream: true });
        const blocks = buffer.split('\n\n');
        buffer = blocks.pop() ?? '';
        for (const block of blocks) {
          if (block.startsWith('data: {') && block.includes('"content":"') && !block.includes('"content":""')) {
            if (timed.times.length === 0) timed.firstPhaseAt = phaseAt;
            timed.times.push(at);
          }
        }
      },
      onResponseEnd() {
        resolve(status === 200 && buffer.length === 0 && Number.isFinite(timed.sentAt) && Number.isFinite(timed.created) ? timed : null);
      },
      onResponseError() {
        resolve(null);
      },
    };
    stamps.dispatch(timed, () => pool.dispatch({ path, method: 'POST', headers: options.headers, body }, handler));
  });
}

/** Opens `count` keep-alive connections first (one request each, all at once), so no stream pays for a connect. */
async function warmUp(pool: Pool, options: StreamOptions, path: string, count: number): Promise<void> {
  const body = JSON.stringify({ ...(JSON.parse(options.body) as object), stream: false });
  await Promise.all(
    Array.from({ length: count }, async () => {
      const res = await pool.request({ path, method: 'POST', headers: options.headers, body });
      await res.body.dump();
    }),
  );
}

function spread(values: readonly number[]): number {
  return values.length === 0 ? Number.NaN : Math.round((Math.max(...values) - Math.min(...values)) * 100) / 100;
}

export async function runStreams(options: StreamOptions): Promise<StreamResult> {
  const url = new URL(options.url);
  const path = url.pathname;
  const pool = new Pool(url.origin, { connections: options.streams, pipelining: 1 });
  const stamps = new SendStamps();
  const phase = new ReadPhase();
  try {
    await warmUp(pool, options, path, options.streams);
    await options.beforeStreams?.();
    const body = Buffer.from(options.body);
    const results = await Promise.all(Array.from({ length: options.streams }, () => oneStream(pool, stamps, phase, options, path, body)));
    const ok = results.filter((r): r is Timed => r !== null);
    // The k-th generation the fake handled is the k-th request it read: it answers in arrival order (backlog.ts).
    // Paired by that order only when every stream completed; with one missing the order no longer lines up, and
    // the measures from the receipt are left out (NaN) rather than paired wrong.
    const receipts = await options.receipts();
    const byHandling = [...ok].sort((a, b) => a.created - b.created);
    const paired = byHandling.length === receipts.length;
    const receiptOf = new Map(paired ? byHandling.map((timed, k) => [timed, receipts[k] as number]) : []);

    const intervalMs = 1000 / options.tokensPerSecond;
    const ttftErrors: number[] = [];
    const fromReceipt: number[] = [];
    const sendToReceipt: number[] = [];
    const clientReadDelay: number[] = [];
    const atClientRead: number[] = [];
    const gapErrors: number[] = [];
    const lateness: number[] = [];
    for (const timed of ok) {
      const receipt = receiptOf.get(timed);
      if (receipt !== undefined) sendToReceipt.push(receipt - timed.sentAt);
      timed.times.forEach((t, i) => {
        lateness.push(t - timed.sentAt - (options.ttftMs + i * intervalMs));
        if (i === 0) {
          ttftErrors.push(t - timed.sentAt - options.ttftMs);
          clientReadDelay.push(t - timed.firstPhaseAt);
          atClientRead.push(timed.firstPhaseAt - timed.sentAt - options.ttftMs);
          if (receipt !== undefined) fromReceipt.push(t - receipt - options.ttftMs);
        } else gapErrors.push(t - (timed.times[i - 1] as number) - intervalMs);
      });
    }
    return {
      streams: options.streams,
      completed: ok.length,
      tokensPerStream: ok[0]?.times.length ?? 0,
      ttftErrorMs: summary(ttftErrors),
      ttftFromReceiptErrorMs: summary(fromReceipt),
      sendToReceiptMs: summary(sendToReceipt),
      sendToReceiptMinMs: sendToReceipt.length === 0 ? Number.NaN : round2(Math.min(...sendToReceipt)),
      clientReadDelayMs: summary(clientReadDelay),
      ttftErrorAtClientReadMs: summary(atClientRead),
      gapErrorMs: summary(gapErrors),
      latenessMs: summary(lateness),
      sendSpreadMs: spread(ok.map((t) => t.sentAt)),
      receiptSpreadMs: spread(receipts),
    };
  } finally {
    stamps.close();
    await pool.destroy();
  }
}

/**
 * One attempt, hedged: the backend the policy chose is asked, and if it has not spoken by the hedge delay the
 * next backend is asked too. The first to send a chunk (text or a tool call) wins: only its chunks are passed
 * on, and the other request is cancelled at once, so the caller never hears two answers and the framework
 * never sees a tool call twice. A failure before the first chunk does not end the race while the other
 * request may still answer. Returns every request it made, settled.
 */
import type { llm } from '@livekit/agents';
import type { Clock } from '../../contract/clock.js';
import type { AttemptResult } from './attempt.js';
import type { Backend } from './backends.js';

export interface Lane {
  backend: Backend;
  /** False for the policy's own choice, true for the hedge. */
  hedge: boolean;
  /** Scenario ms it started and settled. */
  at: number;
  end: number;
  result: AttemptResult;
  /** It spoke first: its chunks were the ones passed on. */
  won: boolean;
}

export interface RaceOptions {
  first: Backend;
  clock: Clock;
  /** The turn's signal: aborting it cancels every request. */
  signal: AbortSignal;
  /** Scenario ms after the start to hedge; undefined: never. */
  hedgeAfterMs: number | undefined;
  /**
   * Called when the hedge delay passed without a chunk: the backend to ask too, or undefined (none, or no budget).
   * May answer later (a fleet's shared budget is asked over the network): the hedge then starts only if the race is
   * still open (no winner, the first request not settled, the turn not cancelled).
   */
  pickHedge: () => Backend | undefined | Promise<Backend | undefined>;
  /** The hedge picked is asked now (say so: a `hedge` policy event). */
  onHedge?: (backend: Backend) => void;
  /** The hedge picked came too late (the race had closed): give back what picking it took. */
  onHedgeDropped?: (backend: Backend) => void;
  run: (backend: Backend, signal: AbortSignal, onChunk: (chunk: llm.ChatChunk, servedBy?: string) => void) => Promise<AttemptResult>;
  /** Receives the winner's chunks (and the model its response names as answering). */
  forward: (chunk: llm.ChatChunk, backend: Backend, servedBy?: string) => void;
}

export async function race(options: RaceOptions): Promise<Lane[]> {
  const { clock, signal } = options;
  const lanes: (Lane & { controller: AbortController })[] = [];
  const running: Promise<void>[] = [];
  let winner: Lane | undefined;
  let failure: unknown;
  let firstSettled = false;

  const start = (backend: Backend, hedge: boolean) => {
    const controller = new AbortController();
    const abort = () => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    // An abort that came first fires no event: the request must not run as if the turn were still on.
    if (signal.aborted) controller.abort();
    const lane = { backend, hedge, at: clock.now(), end: NaN, won: false, controller, result: { cancelled: true, textSent: false } as AttemptResult };
    lanes.push(lane);
    const onChunk = (chunk: llm.ChatChunk, servedBy?: string) => {
      if (!winner) {
        winner = lane;
        lane.won = true;
        cancelHedge();
        for (const other of lanes) if (other !== lane) other.controller.abort();
      }
      if (winner === lane) options.forward(chunk, backend, servedBy);
    };
    running.push(
      options
        .run(backend, controller.signal, onChunk)
        .then(
          (result) => {
            lane.result = result;
          },
          (error: unknown) => {
            // A bug below us: stop the other request too, and let the chain's own catch speak the apology.
            failure ??= error;
            for (const other of lanes) other.controller.abort();
          },
        )
        .finally(() => {
          lane.end = clock.now();
          signal.removeEventListener('abort', abort);
          if (!hedge) {
            firstSettled = true;
            cancelHedge();
          }
        }),
    );
  };

  const startHedge = (backend: Backend) => {
    options.onHedge?.(backend);
    start(backend, true);
  };

  const cancelHedge =
    options.hedgeAfterMs === undefined
      ? () => {}
      : clock.schedule(() => {
          if (winner || signal.aborted) return;
          const picked = options.pickHedge();
          if (!(picked instanceof Promise)) {
            if (picked) startHedge(picked);
            return;
          }
          // Counted among the running: the race does not end while the pick may still start a hedge.
          running.push(
            picked.then(
              (backend) => {
                if (!backend) return;
                if (!winner && !firstSettled && !signal.aborted) startHedge(backend);
                else options.onHedgeDropped?.(backend);
              },
              (error: unknown) => {
                // A pick that failed once the race no longer needed it (a request already answered or settled) changes
                // nothing the caller hears: an answer already spoken must not be followed by the apology.
                if (!winner && !firstSettled && !signal.aborted) failure ??= error;
              },
            ),
          );
        }, options.hedgeAfterMs);
  start(options.first, false);

  // A hedge may start while we wait: wait again until every request started has settled.
  for (let settled = 0; settled < running.length; ) {
    const count = running.length;
    await Promise.all(running);
    settled = count;
  }
  cancelHedge();
  if (failure !== undefined) throw failure;
  return lanes.map(({ controller: _c, ...lane }) => lane);
}

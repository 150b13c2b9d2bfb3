/**
 * Everything the fake remembers between requests: the scenario and its compiled rules, the scenario clock, the
 * per-model request counts (`nth`), the journal, the generations it produced, and the requests still open (so
 * `close()` can end them).
 */
import { EventEmitter } from 'node:events';
import type { ScaledClock } from '../../contract/clock.js';
import type { Journal, JournalEntry } from '../../contract/journal.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { GenerationLog } from './generations.js';
import { JournalBook } from './journal.js';
import { Ticker } from './ticker.js';
import { compileRules, type CompiledRule } from './rules/rule.js';
import { servedModels } from './wire/catalog.js';
import { userIdFor } from './wire/errors.js';

/** What the fake announces: `decided` when a chat request's fault is chosen, `closed` when any request ends. */
export type FakeEventMap = { decided: [JournalEntry]; closed: [JournalEntry] };
export type FakeEvents = EventEmitter<FakeEventMap>;

export class FakeState {
  scenario!: Scenario;
  /** The account id in error bodies: fixed by the seed, so derived once per scenario, not per request. */
  userId!: string;
  rules: CompiledRule[] = [];
  /** Served model ids, in catalog order. */
  served: string[] = [];
  readonly journal = new JournalBook();
  /** One timer per due wall millisecond for every open request's waits (ticker.ts). */
  readonly ticker = new Ticker();
  readonly generations = new GenerationLog();
  readonly events: FakeEvents = new EventEmitter<FakeEventMap>();
  private counts = new Map<string, number>();
  private open = new Set<AbortController>();

  constructor(
    scenario: Scenario,
    readonly clock: ScaledClock,
  ) {
    this.setScenario(scenario);
  }

  /** Swaps the script. Counters, journal and clock carry on (reset them with `reset`). */
  setScenario(scenario: Scenario): void {
    this.scenario = scenario;
    this.rules = compileRules(scenario.fake.rules);
    this.served = servedModels(scenario);
    this.userId = userIdFor(scenario.seed);
  }

  /** Scenario time 0 becomes `atEpochMs`; counters, journal and generations start over. */
  reset(atEpochMs = Date.now()): void {
    this.clock.resetTo(atEpochMs);
    this.counts.clear();
    this.journal.clear();
    this.generations.clear();
  }

  serves(model: string): boolean {
    return this.served.includes(model);
  }

  /** Counts one more request for `model`; returns its 1-based number since reset. */
  nextNth(model: string): number {
    const n = (this.counts.get(model) ?? 0) + 1;
    this.counts.set(model, n);
    return n;
  }

  /** Registers an open request; returns its abort signal and a function to call when it is over. */
  track(): { signal: AbortSignal; abort(): void; done(): void } {
    const controller = new AbortController();
    this.open.add(controller);
    return {
      signal: controller.signal,
      abort: () => controller.abort(new Error('request closed')),
      done: () => this.open.delete(controller),
    };
  }

  /** Aborts every open request (their timers stop, their handlers return). */
  abortAll(): void {
    for (const controller of this.open) controller.abort(new Error('fake closing'));
    this.open.clear();
  }

  journalSnapshot(): Journal {
    return this.journal.snapshot(this.clock.origin, this.clock.speed);
  }
}

/**
 * Everything the fake remembers between requests: the scenario and its compiled rules, the scenario clock and
 * calendar, the per-model request counts (`nth`), each key's account (free-model quota, usage), the journal, the
 * generations it produced, and the requests still open (so `close()` can end them).
 */
import { EventEmitter } from 'node:events';
import type { RehearsalClock } from '../../contract/clock.js';
import type { Journal, JournalEntry } from '../../contract/journal.js';
import type { Scenario } from '../../contract/scenario/schema.js';
import { Arrivals } from './arrival.js';
import { scenarioCalendar, type Calendar } from './calendar.js';
import { GenerationLog } from './generations.js';
import { JournalBook } from './journal.js';
import { FreeQuota } from './quota/quota.js';
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
  /** One timer per due instant for every open request's waits (ticker.ts). */
  readonly ticker: Ticker;
  /** When each request arrived: one stamp per event-loop phase of reading (arrival.ts). */
  readonly arrivals: Arrivals;
  readonly generations = new GenerationLog();
  readonly events: FakeEvents = new EventEmitter<FakeEventMap>();
  /** OpenRouter's calendar: `fake.startsAt` as scenario time 0, or the clock's wall origin. */
  readonly calendar: Calendar;
  /** Each key's free-model quota and usage, under `fake.account`. */
  readonly quota: FreeQuota;
  private counts = new Map<string, number>();
  private open = new Set<AbortController>();

  constructor(
    scenario: Scenario,
    readonly clock: RehearsalClock,
  ) {
    this.ticker = new Ticker(clock);
    this.arrivals = new Arrivals(clock);
    this.setScenario(scenario);
    this.calendar = scenarioCalendar(clock, () => this.scenario.fake.startsAtEpochMs);
    this.quota = new FreeQuota(this.calendar, () => this.scenario.fake.account);
  }

  /** Swaps the script. Counters (the quota's too), journal and clock carry on (reset them with `reset`). */
  setScenario(scenario: Scenario): void {
    this.scenario = scenario;
    this.rules = compileRules(scenario.fake.rules);
    this.served = servedModels(scenario);
    this.userId = userIdFor(scenario.seed);
  }

  /** Scenario time 0 becomes `atEpochMs`; counters, quotas, journal and generations start over. */
  reset(atEpochMs = Date.now()): void {
    this.clock.resetTo(atEpochMs);
    this.arrivals.forget();
    this.counts.clear();
    this.quota.clear();
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

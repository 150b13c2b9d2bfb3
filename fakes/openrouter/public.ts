/**
 * `@holdline/fake`: the fake OpenRouter for your own tests, the way mockttp and WireMock are used.
 *
 *   const fake = await startFakeOpenRouter({
 *     scenario: { agent: { models: ['openai/gpt-4o-mini'] } },
 *     rules: [when({ model: 'openai/*', nth: 1 }).then({ error: 'rate-limit-per-minute', retryAfter: '2s' })],
 *   });
 *   new OpenAI({ baseURL: fake.baseURL, apiKey: 'sk-or-v1-any' });   // or OPENROUTER_BASE_URL=fake.baseURL
 *   ... fake.journal(); fake.setScenario(...); fake.reset(); await fake.close();
 *
 * A scenario is an object in the YAML's shape, YAML text, a file path or a library name (`rate-limit-storm`).
 * Rules built in code go after the scenario's own (the first rule that applies decides, as in YAML).
 * `account: { credits: 0 }` (or `{ quota: false }`) sets the account behind every key over the scenario's
 * `fake.account`, whatever form the scenario takes: a free key's 50 requests a day, or no free-model quota at all.
 */
import { stringify } from 'yaml';
import type { z } from 'zod';
import { resolveScenario } from '../../contract/scenario/library.js';
import { loadScenarioFile, parseScenario } from '../../contract/scenario/load.js';
import type { accountSection, FAULT_SCHEMAS, FaultKind, Scenario, ScenarioInput, when as whenSchema } from '../../contract/scenario/schema.js';
import { startFake, type FakeOptions, type RunningFake } from './server.js';

export { ScenarioError, type ScenarioProblem } from '../../contract/scenario/load.js';
export type { Journal, JournalEntry, Outcome } from '../../contract/journal.js';
export type { Scenario } from '../../contract/scenario/schema.js';
export { ERROR_PRESETS, type ErrorPreset } from '../../contract/scenario/schema.js';

/** A `then`, as written in YAML: `'hang'`, `{ error: 'rate-limit-per-minute', retryAfter: '2s' }`, `{ ttft: '9s' }`... */
export type FaultInput = 'hang' | 'stall' | 'reset' | 'empty' | { [K in FaultKind]: Omit<z.input<(typeof FAULT_SCHEMAS)[K]>, 'kind'> }[FaultKind];
/** A `when`: `{ model: 'openai/*', from: '0s', until: '8s', nth: [1, 2], probability: 0.5, stream: true }`. */
export type WhenInput = z.input<typeof whenSchema>;
/** `fake.account`: `{ credits: 0 }` (a free key: 50 `:free` requests a day), `{ quota: false }` (none refused). */
export type AccountInput = z.input<typeof accountSection>;
export interface RuleInput {
  when?: WhenInput;
  then: FaultInput;
}

/** A scenario in the YAML's shape; `name` and `description` may be left out in code. */
export type ScenarioObject = Omit<ScenarioInput, 'name' | 'description' | 'fake'> & {
  name?: string;
  description?: string;
  fake?: Omit<NonNullable<ScenarioInput['fake']>, 'rules'> & { rules?: RuleInput[] };
};

/** A scenario object, YAML text (anything with a line break), a file path or a library name. */
export type ScenarioSource = ScenarioObject | string;

export interface FakeOpenRouterOptions extends Omit<FakeOptions, 'scenario'> {
  scenario: ScenarioSource;
  /** Rules built in code, tried after the scenario's own. */
  rules?: RuleInput[];
  /** The account behind every key, over the scenario's `fake.account` (and over every scenario `setScenario` swaps in). */
  account?: AccountInput;
}

export interface FakeOpenRouter extends Omit<RunningFake, 'setScenario'> {
  /** Swaps the scenario live (counters, journal and clock carry on); same forms as `scenario`, plus code rules. */
  setScenario(scenario: ScenarioSource, rules?: RuleInput[]): void;
}

/** A rule built in code: `when({ model: 'a/*', nth: 1 }).then({ error: 'provider-down' })`. */
export function when(matchers: WhenInput = {}): { then(fault: FaultInput): RuleInput } {
  return { then: (fault) => ({ when: matchers, then: fault }) };
}

/** Starts the fake on a free loopback port (unless `port`/`host` say otherwise). Bad scenarios throw `ScenarioError`. */
export async function startFakeOpenRouter(options: FakeOpenRouterOptions): Promise<FakeOpenRouter> {
  const { scenario, rules, account, ...rest } = options;
  const withAccount = accountOver(account);
  const fake = await startFake({ ...rest, scenario: withAccount(toScenario(scenario, rules)) });
  return { ...fake, setScenario: (next, nextRules) => fake.setScenario(withAccount(toScenario(next, nextRules))) };
}

/** Checks an `account` option once (problems name "account", line, column and key) and applies it to scenarios. */
function accountOver(account: AccountInput | undefined): (scenario: Scenario) => Scenario {
  if (account === undefined) return (scenario) => scenario;
  const checked = parseObject({ agent: { models: ['(account only)'] }, fake: { account } }, 'account').fake.account;
  return (scenario) => ({ ...scenario, fake: { ...scenario.fake, account: checked } });
}

/** Any scenario form to a checked `Scenario`, with code rules appended. Problems name file (or "scenario object"), line, column and key. */
export function toScenario(source: ScenarioSource, rules: RuleInput[] = []): Scenario {
  if (typeof source !== 'string') return parseObject({ ...source, fake: { ...source.fake, rules: [...(source.fake?.rules ?? []), ...rules] } }, 'scenario object');
  const scenario = /[\n\r]/.test(source) ? parseScenario(source, 'scenario text') : loadScenarioFile(resolveScenario(source));
  if (rules.length === 0) return scenario;
  const extra = parseObject({ agent: { models: ['(rules only)'] }, fake: { rules } }, 'rules').fake.rules;
  return { ...scenario, fake: { ...scenario.fake, rules: [...scenario.fake.rules, ...extra] } };
}

function parseObject(source: ScenarioObject, file: string): Scenario {
  return parseScenario(stringify({ name: 'in-code', description: 'a scenario built in code', ...source }), file);
}

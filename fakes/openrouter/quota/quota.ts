/**
 * The free-model limiter between the chat route and the rules, and the account `/key` and `/credits` report: the
 * scenario's `fake.account` applied to each key's counts on the scenario calendar. The chat route asks `pass` once
 * per model it tries; the routes for `/key` and `/credits` ask `report`.
 *
 * Rules apply on top: a rule that scripts an error (`error`, `status`) wins over the limiter's 429 (a scenario that
 * scripts a storm gets its storm). A rule that shapes an answer (a reply, a slow first token, a hang, a stall, a
 * stream that breaks) does not: OpenRouter's limiter refuses the request before any provider sees it, so a spent key
 * must not be answered because a rule said how the provider answers. A rule-answered request still counts while the
 * windows have room, because the rule stands for what the provider did, and OpenRouter counts failed attempts; once
 * they are full it is not counted (nothing let it through).
 */
import type { AccountSettings } from '../../../contract/scenario/schema.js';
import type { Calendar } from '../calendar.js';
import type { OpenRouterError } from '../wire/errors.js';
import { DAY_MS, FREE_LIMIT_MESSAGES, MINUTE_MS, platformRateLimit } from '../wire/presets.js';
import { Accounts, type AccountView } from './accounts.js';
import { freeLimits, isFreeModel, type FreeLimits, type FreeRefusal } from './free-quota.js';

/** The limiter's answer to a request it refuses: the 429 and the sentence the journal shows. */
export interface QuotaRefusal {
  error: OpenRouterError;
  text: string;
}

export interface AccountReport extends AccountView {
  settings: AccountSettings;
  limits: FreeLimits;
}

export class FreeQuota {
  constructor(
    private readonly calendar: Calendar,
    private readonly settings: () => AccountSettings,
    readonly accounts = new Accounts(),
  ) {}

  /**
   * One request for `model` by `keyId`, arrived at scenario ms `atMs`. `scripted`: a rule scripted an error as its
   * answer. Returns the 429 to answer with when the quota refuses it and no rule scripted an error; counts it when the
   * limiter lets it through.
   */
  pass(keyId: string, model: string, atMs: number, scripted: boolean): QuotaRefusal | undefined {
    if (!isFreeModel(model)) return undefined;
    const settings = this.settings();
    const at = this.calendar.at(atMs);
    const verdict = this.accounts.free(keyId, freeLimits(settings.credits), at, settings.quota);
    if (verdict.admitted || scripted) return undefined;
    return { error: this.refusalError(verdict.refusal, at, freeLimits(settings.credits)), text: refusalText(verdict.refusal) };
  }

  /** Adds a generation's cost to the key's usage. */
  spend(keyId: string, usd: number, atMs: number): void {
    this.accounts.spend(keyId, usd, this.calendar.at(atMs));
  }

  report(keyId: string, atMs: number): AccountReport {
    const settings = this.settings();
    return { ...this.accounts.view(keyId, this.calendar.at(atMs)), settings, limits: freeLimits(settings.credits) };
  }

  clear(): void {
    this.accounts.clear();
  }

  private refusalError(refusal: FreeRefusal, at: number, limits: FreeLimits): OpenRouterError {
    const perDay = limits.highBalance ? FREE_LIMIT_MESSAGES.perDayHighBalance : FREE_LIMIT_MESSAGES.perDay;
    const message = refusal.window === 'minute' ? FREE_LIMIT_MESSAGES.perMinute : perDay;
    const period = refusal.window === 'minute' ? MINUTE_MS : DAY_MS;
    // OpenRouter moves on to the next model of `models[]`, as for the scripted rate-limit presets.
    return { status: 429, fallsBack: true, ...platformRateLimit(refusal.limit, period, message, { scenarioEpochMs: at, toWallEpochMs: this.calendar.toWallEpochMs }) };
  }
}

/** The account in one sentence, for the CLI's list of what the scenario does. */
export function describeAccount(settings: AccountSettings): string {
  const limits = freeLimits(settings.credits);
  const bought = `${settings.credits} credits bought`;
  if (!settings.quota) return `account: ${bought}; free-model quota off (:free requests counted, never refused for it).`;
  return `account: ${bought}; per key, :free models answer ${limits.perMinute} requests a minute and ${limits.perDay} a day, then 429.`;
}

function refusalText(refusal: FreeRefusal): string {
  const span = refusal.window === 'minute' ? 'this minute' : 'today';
  return `the key's free-model quota is spent (${refusal.limit} requests ${span}): 429 until the ${refusal.window === 'minute' ? 'next minute' : 'next UTC midnight'}`;
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backendsFrom } from './chain/backends.js';
import { CONFIG_ENV_VARS, ConfigError, loadConfig } from './config.js';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('configuration', () => {
  it('has working defaults, and without a key runs on the local model alone with a warning', () => {
    const config = loadConfig({});
    expect(config.openrouter.baseURL).toBe('https://openrouter.ai/api/v1');
    expect(config.openrouter.models).toEqual(['meta-llama/llama-3.3-70b-instruct:free']);
    expect(config.local.baseURL).toBe('http://localhost:11434/v1');
    expect(config.holdMessage).toBe('Hang on a sec.');
    expect(config.apologyMessage).toBe("Sorry, I can't answer that right now.");
    expect(config.policy.retryWindowMs).toBe(60_000);
    expect(config.warnings).toEqual([
      'OPENROUTER_API_KEY is not set: OpenRouter is skipped and the agent answers from the local model alone',
    ]);
  });

  it('LLM_MAX_TOKENS and LLM_TEMPERATURE: 1000 and 0.7 by default, checked when given', () => {
    expect(loadConfig({}).generation).toEqual({ maxTokens: 1000, temperature: 0.7 });
    expect(loadConfig({ LLM_MAX_TOKENS: '150', LLM_TEMPERATURE: '0' }).generation).toEqual({ maxTokens: 150, temperature: 0 });
    expect(problems({ LLM_MAX_TOKENS: '0', LLM_TEMPERATURE: '2.5' })).toEqual([
      'LLM_MAX_TOKENS: expected a whole number of tokens like 1000, got "0"',
      'LLM_TEMPERATURE: expected a number from 0 to 2',
    ]);
    expect(problems({ LLM_MAX_TOKENS: 'lots', LLM_TEMPERATURE: 'warm' })).toEqual([
      'LLM_MAX_TOKENS: expected a whole number of tokens like 1000, got "lots"',
      'LLM_TEMPERATURE: expected a number from 0 to 2 like 0.7, got "warm"',
    ]);
  });

  it('reads the chain in order, trimmed', () => {
    const config = loadConfig({ OPENROUTER_API_KEY: 'sk-or-v1-x', LLM_MODEL: ' a/one , b/two:free ' });
    expect(config.openrouter.models).toEqual(['a/one', 'b/two:free']);
    expect(config.warnings).toEqual([]);
  });

  it('lists every problem at once, each with the variable and what is wrong', () => {
    expect(
      problems({
        LLM_MODEL: 'a/one,,a/one',
        OPENROUTER_BASE_URL: 'not a url',
        RETRY_WINDOW_MS: '60s',
        HTTP_PORT: '70000',
        WORKER_PORT: '0',
        LOG_LEVEL: 'loud',
      }),
    ).toEqual([
      'OPENROUTER_BASE_URL: expected an http(s) URL, got "not a url"',
      'LLM_MODEL: entry 2 is blank (in "a/one,,a/one")',
      'LLM_MODEL: duplicate model "a/one"',
      'RETRY_WINDOW_MS: expected whole milliseconds like 60000, got "60s"',
      'HTTP_PORT: expected a port number up to 65535',
      'WORKER_PORT: expected a port number from 1 to 65535',
      'LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    ]);
  });

  it('hedging, hold and server fallback: bad values are named, and bounds that contradict each other too', () => {
    expect(problems({ HEDGE_BUDGET_PERCENT: '150', OPENROUTER_SERVER_FALLBACK: 'maybe', HOLD_AFTER_MS: '2s' })).toEqual([
      'HOLD_AFTER_MS: expected whole milliseconds like 2000, got "2s"',
      'HEDGE_BUDGET_PERCENT: expected a percentage from 0 (no hedging) to 100',
      'OPENROUTER_SERVER_FALLBACK: expected true or false, got "maybe"',
    ]);
    expect(problems({ HEDGE_MIN_MS: '2000', HEDGE_MAX_MS: '1000', HOLD_AFTER_MS: '0' })).toEqual([
      'HEDGE_MIN_MS: 2000 is above HEDGE_MAX_MS (1000)',
      'HOLD_AFTER_MS: 0 would put the hold before every answer; expected a delay like 2000',
    ]);
    const chain = backendsFrom(loadConfig({ OPENROUTER_API_KEY: 'k', LLM_MODEL: 'a/1,b/2,c/3', OPENROUTER_SERVER_FALLBACK: 'true' }));
    expect(chain.map((b) => [b.id, b.fallbackModels])).toEqual([
      ['openrouter:a/1', ['b/2', 'c/3']],
      ['openrouter:b/2', ['c/3']],
      ['openrouter:c/3', undefined],
      ['local', undefined],
    ]);
  });

  it('the error message names every problem, and never a secret value', () => {
    try {
      loadConfig({ OPENROUTER_API_KEY: 'sk-or-v1-supersecret', LLM_MODEL: 'a/one, ', OPENROUTER_IDLE_TIMEOUT_MS: '-1' });
      expect.unreachable();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toBe(
        [
          'invalid configuration:',
          '  - LLM_MODEL: entry 2 is blank (in "a/one, ")',
          '  - OPENROUTER_IDLE_TIMEOUT_MS: expected whole milliseconds like 5000, got "-1"',
        ].join('\n'),
      );
      expect(message).not.toContain('supersecret');
    }
  });

  it('REDIS_URL: a redis:// URL shares cooldowns; a bad one is listed with the rest, its value (a password?) never shown', () => {
    expect(loadConfig({ OPENROUTER_API_KEY: 'k', REDIS_URL: 'redis://:pw@127.0.0.1:6379/0' }).redis).toEqual({ url: 'redis://:pw@127.0.0.1:6379/0', freePerMinute: 20 });
    expect(loadConfig({ OPENROUTER_FREE_PER_MINUTE: '0' }).redis).toEqual({ url: undefined, freePerMinute: 0, freePerDay: undefined, deadlineMs: undefined });
    expect(loadConfig({ REDIS_DEADLINE_MS: '1000' }).redis).toMatchObject({ deadlineMs: 1000 });
    expect(problems({ REDIS_DEADLINE_MS: '0', OPENROUTER_FREE_PER_DAY: 'lots' })).toEqual([
      'REDIS_DEADLINE_MS: expected 1 to 10000 ms',
      'OPENROUTER_FREE_PER_DAY: expected a whole number of requests like 50 or 1000, got "lots"',
    ]);
    expect(loadConfig({ OPENROUTER_FREE_PER_DAY: '1000' }).redis).toMatchObject({ freePerDay: 1000 });
    const listed = problems({ REDIS_URL: 'http://:s3cret@cache:6379', LOG_LEVEL: 'loud' });
    expect(listed).toEqual([
      'REDIS_URL: expected a redis:// or rediss:// URL like redis://127.0.0.1:6379 (the value is not shown: it may hold a password)',
      'LOG_LEVEL: expected one of trace, debug, info, warn, error, fatal, silent, got "loud"',
    ]);
    expect(listed.join()).not.toContain('s3cret');
    expect(loadConfig({ REDIS_URL: 'redis://127.0.0.1:6379' }).warnings).toContain(
      'REDIS_URL is set but OPENROUTER_API_KEY is not: there are no OpenRouter cooldowns to share, Redis is not used',
    );
  });

  it('.env.example documents every variable with the default the code uses', () => {
    const example = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
    const documented = new Map(
      example
        .split('\n')
        // A commented-out `# VAR=value` documents the default too (left unset so docker compose can pick its own).
        .map((line) => line.replace(/^# (?=[A-Z_]+=)/, ''))
        .filter((line) => /^[A-Z_]+=/.test(line))
        .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
    );
    expect([...documented.keys()].sort()).toEqual([...CONFIG_ENV_VARS].sort());
    // Loading the documented values must give exactly the defaults.
    const fromExample = loadConfig(Object.fromEntries(documented));
    const fromNothing = loadConfig({});
    expect(fromExample).toEqual(fromNothing);
  });
});

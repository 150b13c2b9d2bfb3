/**
 * Where a fault strikes and how it is written as `fake.rules`, for the fault matrix and the soak. The chain is
 * two OpenRouter models plus the local server, and the fake OpenRouter stands in for the local llama.cpp server
 * too (LOCAL_LLM_BASE_URL points at the fake, LOCAL_LLM_MODEL at a model of its own): that is how a fault *at*
 * the local server is played, and it keeps these runs free of a real model at high speed.
 */
import type { ErrorPreset } from '../../contract/scenario/schema.js';
import { PRESETS } from '../../fakes/openrouter/index.js';
import { loadConfig } from '../../src/config.js';
import type { SpeechRules } from './invariants.js';

export const PRIMARY = 'or/primary';
export const SECONDARY = 'or/secondary';
export const LOCAL_MODEL = 'local/stand-in';
export const OPENROUTER_GLOB = 'or/*';
export const OPENROUTER_ANSWER = 'Paris is the capital of France.';
export const LOCAL_ANSWER = 'Lyon is the second city of France.';

/**
 * What the caller may hear from this setup: the agent's default hold and apology, the two answers (or part of
 * one), and never a model id or a provider's name.
 */
export function standInSpeech(): SpeechRules {
  const defaults = loadConfig({});
  return {
    hold: defaults.holdMessage,
    apology: defaults.apologyMessage,
    answers: [OPENROUTER_ANSWER, LOCAL_ANSWER],
    forbidden: [PRIMARY, SECONDARY, LOCAL_MODEL, 'openrouter', 'or/', 'local/', 'llama'],
  };
}

/** The three places of the matrix: the primary only; every OpenRouter model; every OpenRouter model and the local server. */
export const PLACES = ['primary', 'openrouter', 'everywhere'] as const;
export type Place = (typeof PLACES)[number];

/** A fault as written after `then:` (YAML flow), with the kind it is. */
export interface FaultSample {
  kind: string;
  /** What to call it in a test name. */
  name: string;
  then: string;
  /** The error preset, for `error` faults (the local stand-in sends only its status: see `localThen`). */
  preset?: ErrorPreset;
  /** The fault as the local server gives it, where that differs (see `localThen`). */
  local?: string;
}

/**
 * The same fault as a llama.cpp server would give it. OpenRouter's error presets carry OpenRouter's bodies and
 * rate-limit headers (a daily quota's reset at midnight, "User not found."), which a local server never sends:
 * at the local server an error preset becomes a plain error status, and a sample whose body would carry one
 * (a mid-stream error) says its local form. Every other kind is transport-level and stays as is.
 */
export function localThen(sample: FaultSample): string {
  if (sample.local) return sample.local;
  return sample.preset ? `{ status: ${PRESETS[sample.preset].status} }` : sample.then;
}

export interface Window {
  fromMs?: number;
  untilMs: number;
  probability?: number;
}

/** The rules (YAML flow lines) that put `sample` at `target` during `window`. */
export function ruleLines(sample: FaultSample, target: Place | 'secondary' | 'local', window: Window): string[] {
  const when = (model: string) =>
    [
      `model: "${model}"`,
      ...(window.fromMs !== undefined ? [`from: ${Math.round(window.fromMs)}ms`] : []),
      `until: ${Math.round(window.untilMs)}ms`,
      ...(window.probability !== undefined ? [`probability: ${window.probability}`] : []),
    ].join(', ');
  const rule = (model: string, then: string) => `{ when: { ${when(model)} }, then: ${then} }`;
  switch (target) {
    case 'primary':
      return [rule(PRIMARY, sample.then)];
    case 'secondary':
      return [rule(SECONDARY, sample.then)];
    case 'openrouter':
      return [rule(OPENROUTER_GLOB, sample.then)];
    case 'local':
      return [rule(LOCAL_MODEL, localThen(sample))];
    case 'everywhere':
      return [rule(OPENROUTER_GLOB, sample.then), rule(LOCAL_MODEL, localThen(sample))];
  }
}

/** The scenario text around some rules: the two OpenRouter models answer one sentence, the local stand-in another. */
export function scenarioText(name: string, rules: readonly string[], seed = 1): string {
  return [
    `name: ${name}`,
    `description: ${JSON.stringify(`faults for ${name}`)}`,
    `seed: ${seed}`,
    `agent: { models: ["${PRIMARY}", "${SECONDARY}"] }`,
    'fake:',
    `  models: ["${LOCAL_MODEL}"]`,
    `  reply: { text: "${OPENROUTER_ANSWER}", ttft: 200ms, tokensPerSecond: 40 }`,
    '  rules:',
    ...rules.map((r) => `    - ${r}`),
    // Last: rules above win, so outside fault windows the local stand-in answers its own sentence.
    `    - { when: { model: "${LOCAL_MODEL}" }, then: { text: "${LOCAL_ANSWER}" } }`,
  ].join('\n');
}

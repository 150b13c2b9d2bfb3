/**
 * The words a reply is made of. Text is split into tokens the way a streaming model emits them: each word
 * with its leading space. When the scenario gives no text, faker (seeded from the scenario seed, the model and the
 * request's number for that model) writes English sentences, so equal runs say equal things.
 */
import { Faker, base, en } from '@faker-js/faker';
import { intDraw } from './seeded.js';

/** "Paris is nice." -> ["Paris", " is", " nice."]. Leading and trailing whitespace is dropped. */
export function tokenize(text: string): string[] {
  return text.trim().match(/\s*\S+/g) ?? [];
}

const faker = new Faker({ locale: [en, base] });

/** A generated reply, fixed by (seed, model, nth). `minTokens` makes it at least that many tokens long. */
export function generatedText(seed: number, model: string, nth: number, minTokens = 0): string {
  faker.seed(intDraw(seed, 'reply', model, nth));
  const sentences: string[] = [];
  do {
    const phrase = faker.hacker.phrase();
    sentences.push(phrase.charAt(0).toUpperCase() + phrase.slice(1));
  } while (tokenize(sentences.join(' ')).length < Math.max(minTokens, 1));
  return sentences.join(' ');
}

/** Tokens of `text`, extended with generated words when a fault needs more tokens than the text has. */
export function tokensAtLeast(text: string, minTokens: number, seed: number, model: string, nth: number): string[] {
  const tokens = tokenize(text);
  if (tokens.length >= minTokens) return tokens;
  const more = tokenize(generatedText(seed, model, nth, minTokens - tokens.length));
  return [...tokens, ...more.map((t, i) => (i === 0 && tokens.length > 0 ? ` ${t.trimStart()}` : t))];
}

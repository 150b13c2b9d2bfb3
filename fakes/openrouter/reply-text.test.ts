import { describe, expect, it } from 'vitest';
import { generatedText, tokenize, tokensAtLeast } from './reply-text.js';

describe('reply text', () => {
  it('tokens are words with their leading space', () => {
    expect(tokenize('Paris is  the capital.')).toEqual(['Paris', ' is', '  the', ' capital.']);
    expect(tokenize('  padded  ')).toEqual(['padded']);
    expect(tokenize('')).toEqual([]);
    expect(tokenize('Paris is nice.').join('')).toBe('Paris is nice.');
  });

  it('generated text is fixed by (seed, model, nth), an English sentence starting with a capital', () => {
    expect(generatedText(7, 'a/b', 1)).toBe(generatedText(7, 'a/b', 1));
    expect(generatedText(7, 'a/b', 1)).not.toBe(generatedText(7, 'a/b', 2));
    expect(generatedText(7, 'a/b', 1)).not.toBe(generatedText(8, 'a/b', 1));
    expect(generatedText(7, 'a/b', 1)).toMatch(/^[A-Z]/);
    expect(tokenize(generatedText(7, 'a/b', 1, 50)).length).toBeGreaterThanOrEqual(50);
  });

  it('a text too short for a fault is extended with seeded words', () => {
    const tokens = tokensAtLeast('Hi there', 6, 7, 'a/b', 1);
    expect(tokens.length).toBeGreaterThanOrEqual(6);
    expect(tokens.slice(0, 3).join('')).toMatch(/^Hi there \S+$/);
    expect(tokensAtLeast('Hi there', 6, 7, 'a/b', 1)).toEqual(tokens);
  });
});

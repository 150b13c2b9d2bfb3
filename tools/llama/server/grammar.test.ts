import { describe, expect, it } from 'vitest';
import { FALLBACK_SENTENCE, fixedSentenceGrammar, gbnfLiteral } from './grammar.js';

describe('GBNF', () => {
  it('makes a one-sentence grammar', () => {
    expect(fixedSentenceGrammar(FALLBACK_SENTENCE)).toBe('root ::= "The local model is answering."');
  });

  it('escapes quotes, backslashes and control characters', () => {
    expect(gbnfLiteral('say "hi"\\now\n\t\r\u0001')).toBe('"say \\"hi\\"\\\\now\\n\\t\\r\\x01"');
    expect(gbnfLiteral('café ☕')).toBe('"café ☕"');
  });

  it('refuses an empty sentence', () => {
    expect(() => fixedSentenceGrammar('')).toThrow(/empty/);
  });
});

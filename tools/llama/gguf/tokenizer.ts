/**
 * A GPT-2 style byte-level BPE vocabulary, as llama.cpp's "gpt2" tokenizer expects: the 256 byte tokens
 * (each byte mapped to a printable character), merges learned on a small built-in corpus, then the control
 * tokens of ChatML. Fully deterministic: no randomness, ties broken by first occurrence.
 */

/** Token types in `tokenizer.ggml.token_type`. */
export const TOKEN_TYPE = { normal: 1, control: 3 } as const;

/** The special tokens, in the order they follow the learned tokens. */
export const SPECIAL_TOKENS = ['<|endoftext|>', '<|im_start|>', '<|im_end|>'] as const;

/** Text the merges are learned on: the fallback sentence and some small talk, so common words are one token. */
export const MERGE_CORPUS =
  'The local model is answering. Hello! How can I help you today? This is a tiny test ' +
  'model for end to end tests. The quick brown fox jumps over the lazy dog. Yes, no, maybe. ' +
  'The answer is forty two. Please respond with a short sentence about the weather and the time.';

/**
 * GPT-2's byte-to-character table: printable Latin-1 bytes stand for themselves, every other byte gets a
 * character from U+0100 on, so every token is a printable string.
 */
function byteToCharTable(): Map<number, string> {
  const bytes: number[] = [];
  const push = (from: number, to: number): void => {
    for (let b = from; b <= to; b++) bytes.push(b);
  };
  push(33, 126);
  push(161, 172);
  push(174, 255);
  const chars = [...bytes];
  let shifted = 0;
  for (let b = 0; b < 256; b++) {
    if (!bytes.includes(b)) {
      bytes.push(b);
      chars.push(256 + shifted++);
    }
  }
  return new Map(bytes.map((b, i) => [b, String.fromCodePoint(chars[i] ?? 0)]));
}

/** Byte -> its byte-level character. */
export const BYTE_TO_CHAR: ReadonlyMap<number, string> = byteToCharTable();

/** `text` as UTF-8 bytes written in byte-level characters (what BPE merges operate on). */
export function toByteLevel(text: string): string {
  return [...Buffer.from(text, 'utf8')].map((b) => BYTE_TO_CHAR.get(b)).join('');
}

/** GPT-2's pre-tokenizer, simplified to ASCII: words with their leading space, numbers, punctuation, spaces. */
const PRE_TOKENIZE = / ?[A-Za-z]+| ?[0-9]+| ?[^\sA-Za-z0-9]+|\s+/g;

/**
 * Learns up to `maxMerges` BPE merges on `corpus`: repeatedly joins the most frequent adjacent pair.
 * @returns merges as "left right" strings (GGUF's format), in the order learned.
 */
export function learnMerges(corpus: string, maxMerges: number): string[] {
  let words = (corpus.match(PRE_TOKENIZE) ?? []).map((word) => [...toByteLevel(word)]);
  const merges: string[] = [];
  for (let m = 0; m < maxMerges; m++) {
    const counts = new Map<string, number>();
    for (const word of words) {
      for (let i = 0; i + 1 < word.length; i++) {
        const pair = `${word[i]} ${word[i + 1]}`;
        counts.set(pair, (counts.get(pair) ?? 0) + 1);
      }
    }
    let best: string | undefined;
    let bestCount = 0;
    for (const [pair, count] of counts) {
      if (count > bestCount) {
        best = pair;
        bestCount = count;
      }
    }
    if (best === undefined) break;
    merges.push(best);
    const [left = '', right = ''] = best.split(' ');
    words = words.map((word) => mergePair(word, left, right));
  }
  return merges;
}

function mergePair(word: string[], left: string, right: string): string[] {
  const merged: string[] = [];
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === left && word[i + 1] === right) {
      merged.push(left + right);
      i++;
    } else {
      merged.push(word[i] ?? '');
    }
  }
  return merged;
}

export interface Vocabulary {
  /** Token strings by id: byte tokens, merged tokens, then SPECIAL_TOKENS. */
  tokens: string[];
  /** TOKEN_TYPE per token. */
  types: number[];
  merges: string[];
  /** Id of each special token. */
  special: { endOfText: number; imStart: number; imEnd: number };
}

/**
 * Builds the vocabulary.
 * @param maxMerges merges to learn. Default 120.
 */
export function buildVocabulary(corpus = MERGE_CORPUS, maxMerges = 120): Vocabulary {
  const byteTokens = [...BYTE_TO_CHAR.values()].sort((a, b) => (a.codePointAt(0) ?? 0) - (b.codePointAt(0) ?? 0));
  const merges = learnMerges(corpus, maxMerges);
  const learned = merges.map((merge) => merge.replace(' ', ''));
  const first = byteTokens.length + learned.length;
  const tokens = [...byteTokens, ...learned, ...SPECIAL_TOKENS];
  const types = tokens.map((_, id) => (id >= first ? TOKEN_TYPE.control : TOKEN_TYPE.normal));
  return { tokens, types, merges, special: { endOfText: first, imStart: first + 1, imEnd: first + 2 } };
}

const PRINTABLE_ASCII = new Set(Array.from({ length: 0x7f - 0x20 }, (_, i) => BYTE_TO_CHAR.get(0x20 + i) ?? ''));

/** True when every character of the token stands for a printable ASCII byte (0x20-0x7e). */
export function isPrintableAscii(token: string): boolean {
  return [...token].every((char) => PRINTABLE_ASCII.has(char));
}

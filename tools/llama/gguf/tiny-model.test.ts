import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SEED, tinyModelGguf } from './tiny-model.js';
import { buildVocabulary, SPECIAL_TOKENS, toByteLevel } from './tokenizer.js';
import { meta, serializeGguf } from './writer.js';

const sha = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

describe('tinyModelGguf', () => {
  it('is byte-identical for the same seed and different for another', () => {
    const a = tinyModelGguf({ seed: DEFAULT_SEED });
    const b = tinyModelGguf({ seed: DEFAULT_SEED });
    const c = tinyModelGguf({ seed: 7 });
    expect(sha(a)).toBe(sha(b));
    expect(sha(c)).not.toBe(sha(a));
    expect(c.length).toBe(a.length); // same shapes, other weights
  });

  it('is a GGUF v3 file of a few hundred KB', () => {
    const bytes = tinyModelGguf();
    expect(bytes.subarray(0, 4).toString('ascii')).toBe('GGUF');
    expect(bytes.readUInt32LE(4)).toBe(3);
    expect(bytes.readBigUInt64LE(8)).toBe(21n); // tensors: embeddings, 2 x 9 per layer, output norm and output
    expect(bytes.length).toBeGreaterThan(200 * 1024);
    expect(bytes.length).toBeLessThan(1024 * 1024);
  });
});

describe('buildVocabulary', () => {
  it('has the 256 byte tokens, the learned merges and the ChatML control tokens last', () => {
    const vocab = buildVocabulary();
    expect(vocab.merges).toHaveLength(120);
    expect(vocab.tokens).toHaveLength(256 + 120 + SPECIAL_TOKENS.length);
    expect(new Set(vocab.tokens).size).toBe(vocab.tokens.length);
    expect(vocab.tokens.slice(-3)).toEqual(['<|endoftext|>', '<|im_start|>', '<|im_end|>']);
    expect(vocab.special).toEqual({ endOfText: 376, imStart: 377, imEnd: 378 });
    expect(vocab.types.filter((type) => type === 3)).toHaveLength(3);
  });

  it('learns the fallback sentence\'s words as single tokens', () => {
    const { tokens } = buildVocabulary();
    expect(tokens).toContain(toByteLevel(' local'));
    expect(tokens).toContain(toByteLevel(' model'));
  });

  it('writes bytes in GPT-2 byte-level characters', () => {
    expect(toByteLevel(' a\n')).toBe('\u0120a\u010a');
    expect(toByteLevel('é')).toBe('\u00c3\u00a9');
  });
});

describe('serializeGguf', () => {
  it('lays out header, metadata, tensor infos and aligned data', () => {
    const data = new Float32Array([1, 2, 3, 4, 5, 6]);
    const bytes = serializeGguf({ metadata: [['k', meta.u32(9)]], tensors: [{ name: 't', shape: [2, 3], data }] });
    let at = 24; // magic, version, tensor count, kv count
    expect(bytes.readBigUInt64LE(8)).toBe(1n);
    expect(bytes.readBigUInt64LE(16)).toBe(1n);
    expect(bytes.readBigUInt64LE(at)).toBe(1n); // key length
    expect(bytes.toString('utf8', at + 8, at + 9)).toBe('k');
    at += 9;
    expect(bytes.readUInt32LE(at)).toBe(4); // u32
    expect(bytes.readUInt32LE(at + 4)).toBe(9);
    at += 8 + 8 + 1; // tensor name
    expect(bytes.readUInt32LE(at)).toBe(2); // dimensions
    expect([bytes.readBigUInt64LE(at + 4), bytes.readBigUInt64LE(at + 12)]).toEqual([3n, 2n]); // reversed
    const dataStart = bytes.length - 32; // 24 bytes of data padded to 32
    expect(dataStart % 32).toBe(0);
    expect(bytes.readFloatLE(dataStart + 4 * 5)).toBe(6);
  });

  it('rejects a tensor whose data does not fit its shape', () => {
    expect(() => serializeGguf({ metadata: [], tensors: [{ name: 't', shape: [2, 2], data: new Float32Array(3) }] })).toThrow(/needs 4 values/);
  });
});

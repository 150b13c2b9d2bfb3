/**
 * Loads the tiny model with node-llama-cpp (its prebuilt CPU binary, no network, one thread) and checks that
 * llama.cpp reads our GGUF and tokenizer as we meant them.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureTinyModel } from '../model.js';
import { FALLBACK_SENTENCE } from '../server/grammar.js';

const dir = mkdtempSync(join(tmpdir(), 'holdline-tokenize-'));
let llama: Llama;
let model: LlamaModel;

beforeAll(async () => {
  const { path } = await ensureTinyModel({ path: join(dir, 'tiny.gguf') });
  // maxThreads 1: on these 2-core machines the default is ~300x slower. build 'never': use the prebuilt binary.
  llama = await getLlama({ gpu: false, build: 'never', maxThreads: 1, progressLogs: false, logLevel: LlamaLogLevel.error });
  model = await llama.loadModel({ modelPath: path });
}, 120_000);

afterAll(async () => {
  await model?.dispose();
  await llama?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('the tiny model in llama.cpp (node-llama-cpp)', () => {
  it.each([FALLBACK_SENTENCE, 'Hello! How can I help you today?', 'naïve café ☕ 42', '  two spaces\tand\na newline '])(
    'round-trips %j through tokenize and detokenize',
    (text) => {
      const tokens = model.tokenize(text);
      expect(tokens.length).toBeGreaterThan(0);
      expect(model.detokenize(tokens)).toBe(text);
    },
  );

  it('uses the learned merges (fewer tokens than bytes)', () => {
    expect(model.tokenize(FALLBACK_SENTENCE).length).toBeLessThan(Buffer.byteLength(FALLBACK_SENTENCE) / 2);
  });

  it('knows the ChatML control tokens as single tokens', () => {
    expect(model.tokenize('<|im_start|>', true)).toHaveLength(1);
    expect(model.tokenize('<|im_end|>', true)).toEqual([model.tokens.eos]);
  });
});

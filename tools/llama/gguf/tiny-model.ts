/**
 * The tiny model: a llama-architecture GGUF with seeded random weights (2 layers, embedding 64, 4 heads,
 * feed-forward 128, context 2048, all F32), the byte-level BPE vocabulary and a ChatML chat template. About
 * 0.5 MB and byte-identical for the same seed. It talks nonsense, which is fine: the server's grammar decides
 * what it says.
 *
 * One trick keeps that nonsense printable: residual channel 0 is a constant "bias channel". Every token
 * embedding holds `BIAS_CHANNEL` there and no layer writes to it (row 0 of attn_output and ffn_down is zero),
 * so column 0 of output.weight adds a fixed logit per token. It bans (-100) the non-printable byte tokens,
 * <|endoftext|> and <|im_start|>, and by default <|im_end|> too, so an unconstrained reply runs to max_tokens.
 */
import { mulberry32, normal } from './prng.js';
import { buildVocabulary, isPrintableAscii, type Vocabulary } from './tokenizer.js';
import { meta, serializeGguf, type MetadataValue, type Tensor } from './writer.js';

/** The model's dimensions. */
export const TINY_MODEL = {
  layers: 2,
  embedding: 64,
  heads: 4,
  kvHeads: 4,
  feedForward: 128,
  context: 2048,
} as const;

/** Default seed of the model the harness and tests use. */
export const DEFAULT_SEED = 42;

/** ChatML, as Qwen and others use: `<|im_start|>role\ncontent<|im_end|>\n`, then the assistant's turn. */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}" +
  "{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const WEIGHT_SCALE = 0.3;
const BIAS_CHANNEL = 4;
const BANNED_LOGIT = -100;

export interface TinyModelOptions {
  /** Seed of the weights. Default DEFAULT_SEED (42). */
  seed?: number;
  /** Ban the end-of-turn token so unconstrained replies always run to max_tokens. Default true. */
  banEndOfTurn?: boolean;
}

function metadata(vocab: Vocabulary): Array<[string, MetadataValue]> {
  const m = TINY_MODEL;
  return [
    ['general.architecture', meta.string('llama')],
    ['general.name', meta.string('tiny-random-llama')],
    ['general.file_type', meta.u32(0)], // all F32
    ['general.alignment', meta.u32(32)],
    ['llama.context_length', meta.u32(m.context)],
    ['llama.embedding_length', meta.u32(m.embedding)],
    ['llama.block_count', meta.u32(m.layers)],
    ['llama.feed_forward_length', meta.u32(m.feedForward)],
    ['llama.attention.head_count', meta.u32(m.heads)],
    ['llama.attention.head_count_kv', meta.u32(m.kvHeads)],
    ['llama.rope.dimension_count', meta.u32(m.embedding / m.heads)],
    ['llama.rope.freq_base', meta.f32(10000)],
    ['llama.attention.layer_norm_rms_epsilon', meta.f32(1e-5)],
    ['llama.vocab_size', meta.u32(vocab.tokens.length)],
    ['tokenizer.ggml.model', meta.string('gpt2')],
    ['tokenizer.ggml.pre', meta.string('gpt-2')],
    ['tokenizer.ggml.tokens', meta.strings(vocab.tokens)],
    ['tokenizer.ggml.token_type', meta.i32s(vocab.types)],
    ['tokenizer.ggml.merges', meta.strings(vocab.merges)],
    ['tokenizer.ggml.bos_token_id', meta.u32(vocab.special.endOfText)],
    ['tokenizer.ggml.eos_token_id', meta.u32(vocab.special.imEnd)],
    ['tokenizer.ggml.padding_token_id', meta.u32(vocab.special.endOfText)],
    ['tokenizer.ggml.add_bos_token', meta.bool(false)],
    ['tokenizer.chat_template', meta.string(CHATML_TEMPLATE)],
  ];
}

/** Builds the tensors in file order; weights are drawn from `randn` row by row in that same order. */
function tensors(vocab: Vocabulary, randn: () => number, banEndOfTurn: boolean): Tensor[] {
  const { embedding: nEmbd, feedForward: nFf, heads, kvHeads, layers } = TINY_MODEL;
  const nVocab = vocab.tokens.length;
  const kvDim = (nEmbd / heads) * kvHeads;
  const random = (): number => randn() * WEIGHT_SCALE;
  const tensor = (name: string, shape: number[], init: (row: number, col: number) => number = random): Tensor => {
    const cols = shape.length > 1 ? (shape[1] ?? 1) : (shape[0] ?? 1);
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    for (let i = 0; i < data.length; i++) data[i] = init(Math.floor(i / cols), i % cols);
    return { name, shape, data };
  };
  const ones = (): number => 1;
  // Rows writing to the residual stream leave channel 0 (the bias channel) untouched.
  const keepBiasChannel = (row: number): number => (row === 0 ? 0 : random());
  const banned = (id: number): boolean =>
    id >= vocab.special.endOfText ? id !== vocab.special.imEnd || banEndOfTurn : !isPrintableAscii(vocab.tokens[id] ?? '');

  const list: Tensor[] = [tensor('token_embd.weight', [nVocab, nEmbd], (_row, col) => (col === 0 ? BIAS_CHANNEL : random()))];
  for (let layer = 0; layer < layers; layer++) {
    const p = `blk.${layer}.`;
    list.push(
      tensor(`${p}attn_norm.weight`, [nEmbd], ones),
      tensor(`${p}attn_q.weight`, [nEmbd, nEmbd]),
      tensor(`${p}attn_k.weight`, [kvDim, nEmbd]),
      tensor(`${p}attn_v.weight`, [kvDim, nEmbd]),
      tensor(`${p}attn_output.weight`, [nEmbd, nEmbd], keepBiasChannel),
      tensor(`${p}ffn_norm.weight`, [nEmbd], ones),
      tensor(`${p}ffn_gate.weight`, [nFf, nEmbd]),
      tensor(`${p}ffn_up.weight`, [nFf, nEmbd]),
      tensor(`${p}ffn_down.weight`, [nEmbd, nFf], keepBiasChannel),
    );
  }
  list.push(
    tensor('output_norm.weight', [nEmbd], ones),
    tensor('output.weight', [nVocab, nEmbd], (row, col) => (col === 0 ? (banned(row) ? BANNED_LOGIT : 0) : random())),
  );
  return list;
}

/** The tiny model as GGUF bytes. Same options, same bytes. */
export function tinyModelGguf(options: TinyModelOptions = {}): Buffer {
  const { seed = DEFAULT_SEED, banEndOfTurn = true } = options;
  const vocab = buildVocabulary();
  const randn = normal(mulberry32(seed));
  return serializeGguf({ metadata: metadata(vocab), tensors: tensors(vocab, randn, banEndOfTurn) });
}

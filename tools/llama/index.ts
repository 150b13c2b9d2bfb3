/**
 * The local llama.cpp for the harness and tests. Typical use:
 *
 *   const { serverBin, modelPath } = await ensureLlama({ onProgress: (p) => console.log(p.message) });
 *   const llama = await startLlamaServer({ serverBin, model: modelPath });
 *   new OpenAI({ baseURL: llama.baseURL, apiKey: 'local', maxRetries: 0 }); // always says FALLBACK_SENTENCE
 *   await llama.stop();
 */
export { ensureLlama, findServerBin, resolveServerBin, type EnsureLlamaOptions, type LlamaSetup } from './ensure.js';
export { buildLlamaServer, findBuiltServer, type BuildOptions } from './build/build-server.js';
export type { LlamaProgress } from './build/progress.js';
export { sourceCommit } from './build/source.js';
export { ensureTinyModel, type EnsuredModel, type EnsureModelOptions } from './model.js';
export { tinyModelGguf, DEFAULT_SEED, TINY_MODEL, type TinyModelOptions } from './gguf/tiny-model.js';
export { cacheRoot, cachedServerBin, modelPath } from './paths.js';
export { startLlamaServer, serverArgs as llamaServerArgs, isHealthy, DEFAULT_ALIAS, type LlamaServer, type StartLlamaServerOptions } from './server/start.js';
export { FALLBACK_SENTENCE, fixedSentenceGrammar, gbnfLiteral } from './server/grammar.js';
export { freeLoopbackPort } from '../kit/free-port.js';
export { startSlowProxy, type SlowProxy, type SlowProxyOptions } from './testing/slow-proxy.js';
export { startSlowLlamaServer, type SlowLlamaServerOptions } from './testing/slow-server.js';
export { downBaseURL, isConnectionRefused } from './testing/down.js';

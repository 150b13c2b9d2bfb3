/** A real llama-server that is slow to its first token: startLlamaServer behind startSlowProxy. */
import { startLlamaServer, type LlamaServer, type StartLlamaServerOptions } from '../server/start.js';
import { startSlowProxy } from './slow-proxy.js';
import type { Clock } from '../../../contract/clock.js';

export interface SlowLlamaServerOptions extends StartLlamaServerOptions {
  /** Milliseconds from a completion request to the first byte of its answer. */
  firstByteDelayMs: number;
  /** Clock for the delay (scenario milliseconds). Default: wall time. */
  clock?: Clock;
}

/**
 * Starts llama-server and a slow proxy in front of it. `baseURL`, `url` and `port` are the proxy's (what the
 * agent should call); `pid` is the server's; stop() stops both.
 */
export async function startSlowLlamaServer(options: SlowLlamaServerOptions): Promise<LlamaServer> {
  const { firstByteDelayMs, clock, ...serverOptions } = options;
  const server = await startLlamaServer(serverOptions);
  try {
    const proxy = await startSlowProxy({ target: server.url, firstByteDelayMs, clock });
    const stop = async (): Promise<void> => {
      await proxy.close();
      await server.stop();
    };
    return { ...server, baseURL: proxy.baseURL, url: proxy.url, port: proxy.port, stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

/**
 * At start: is each backend reachable? OpenRouter's `/models` (with the key), the local server's `/health`.
 * Logged, never fatal: the chain copes with whatever is down, which is the point.
 */
import type { Config } from '../config.js';
import type { Backend } from './backends.js';

export interface ProbeResult {
  backend: string;
  reachable: boolean;
  status?: number;
  detail: string;
}

export async function probeBackends(config: Config, backends: Backend[], timeoutMs = 3_000): Promise<ProbeResult[]> {
  const targets = new Map<string, { url: string; headers: Record<string, string>; ids: string[] }>();
  for (const backend of backends) {
    const url = backend.kind === 'openrouter' ? `${trimSlash(backend.baseURL)}/models` : `${trimSlash(backend.baseURL).replace(/\/v1$/, '')}/health`;
    const headers: Record<string, string> =
      backend.kind === 'openrouter' && config.openrouter.apiKey ? { authorization: `Bearer ${config.openrouter.apiKey}` } : {};
    const target = targets.get(url) ?? { url, headers, ids: [] };
    target.ids.push(backend.id);
    targets.set(url, target);
  }
  const results = await Promise.all(
    [...targets.values()].map(async ({ url, headers, ids }): Promise<ProbeResult[]> => {
      try {
        const response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
        await response.body?.cancel();
        return ids.map((backend) => ({ backend, reachable: response.ok, status: response.status, detail: `${response.status} from ${new URL(url).pathname}` }));
      } catch (error) {
        // fetch wraps the socket error; connect failures may come as an AggregateError (IPv4 and IPv6 tried).
        const cause = (error as { cause?: { code?: string; message?: string; errors?: { code?: string }[] } }).cause;
        const code = cause?.code ?? cause?.errors?.[0]?.code ?? cause?.message ?? (error as Error).name;
        return ids.map((backend) => ({ backend, reachable: false, detail: `unreachable (${code})` }));
      }
    }),
  );
  return results.flat();
}

function trimSlash(url: string): string {
  return url.replace(/\/+$/, '');
}

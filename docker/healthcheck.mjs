// Container healthcheck: exits 0 when the URL answers 2xx within 2 s, else 1 with the reason on stderr.
// Plain Node (no tsx) so it starts fast and works in the node images without curl or wget.
// usage: node docker/healthcheck.mjs [url]   (default: the LiveKit worker's health server, GET / on 8081)
/* global fetch, AbortSignal */
const url = process.argv[2] ?? 'http://127.0.0.1:8081/';
try {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  if (!response.ok) {
    console.error(`unhealthy: GET ${url} answered ${response.status}`);
    process.exit(1);
  }
} catch (error) {
  console.error(`unhealthy: GET ${url} failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}

/**
 * The worker's one `/metrics` and `/llm/status` over its jobs: real job processes (forked, as LiveKit forks them), each
 * with holdline's chain, events and metrics, reporting to the worker's endpoints over loopback HTTP. A finished job's
 * counters stay in the worker's sums; a live job's backends and usage are in its status.
 */
import express from 'express';
import { fork, type ChildProcess } from 'node:child_process';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FLEET_TOKEN_ENV, FLEET_URL_ENV, FleetView, fleetRouter, JOB_SILENT_MS, newReportToken, type JobReport } from './fleet.js';

const JOB = fileURLToPath(new URL('../testing/fleet-job.ts', import.meta.url));
const token = newReportToken();
let server: Server;
let url: string;

beforeAll(async () => {
  const app = express();
  app.use(fleetRouter(new FleetView(), token));
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

/** Forks one job process; resolves once it has reported its turn. */
function startJob(args: string[]): Promise<ChildProcess> {
  const child = fork(JOB, args, { execArgv: ['--import', 'tsx'], env: { ...process.env, [FLEET_URL_ENV]: url, [FLEET_TOKEN_ENV]: token }, stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    child.once('message', () => resolve(child));
    child.once('exit', (code) => (code === 0 ? resolve(child) : reject(new Error(`job ${args[0]} exited with ${code}`))));
  });
}
const exited = (child: ChildProcess) => new Promise((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

describe("a worker's one /metrics and /llm/status over its job processes", () => {
  it('sums the jobs (a finished one included), reports token usage and cost per model, and each live job', async () => {
    const ended = await startJob(['call-1', '100', '20', '0.25', '--end']);
    await exited(ended);
    const live = await startJob(['call-2', '7', '3', '0.5']);
    try {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      // Two turns, two 429s on a/one and two answers from b/two across the two processes.
      expect(metrics).toMatch(/holdline_turns_total\{outcome="answered"\} 2\n/);
      expect(metrics).toMatch(/holdline_llm_requests_total\{backend="openrouter",model="a\/one",outcome="rate-limit"\} 2\n/);
      expect(metrics).toMatch(/holdline_llm_tokens_total\{model="b\/two",kind="prompt"\} 107\n/);
      expect(metrics).toMatch(/holdline_llm_tokens_total\{model="b\/two",kind="completion"\} 23\n/);
      expect(metrics).toMatch(/holdline_llm_cost_usd_total\{model="b\/two"\} 0\.75\n/);
      expect(metrics).toMatch(/holdline_llm_ttft_seconds_count\{backend="openrouter",model="b\/two"\} 2\n/);

      const status = (await (await fetch(`${url}/llm/status`)).json()) as ReturnType<FleetView['status']>;
      expect(status.jobs).toEqual({ live: 1, finished: 1 });
      expect(status.usage).toEqual([{ backend: 'openrouter:b/two', model: 'b/two', requests: 2, promptTokens: 107, completionTokens: 23, costUsd: 0.75 }]);
      // The live job has a/one cooling (its 429 said 10 minutes), in epoch ms: each job's clock has its own origin.
      const a = status.backends.find((b) => b.backend === 'openrouter:a/one');
      expect(a).toMatchObject({ ok: false, lastError: { class: 'rate-limit' } });
      expect(a?.coolingUntilEpochMs).toBeGreaterThan(Date.now() + 500_000);
      expect(status.perJob).toEqual([expect.objectContaining({ job: 'call-2', pid: live.pid })]);
    } finally {
      live.send('stop');
      await exited(live);
    }
    const after = (await (await fetch(`${url}/llm/status`)).json()) as ReturnType<FleetView['status']>;
    expect(after.jobs).toEqual({ live: 0, finished: 2 });
    expect(after.backends).toEqual([]);
    expect(await (await fetch(`${url}/metrics`)).text()).toMatch(/holdline_llm_cost_usd_total\{model="b\/two"\} 0\.75\n/);
  }, 120_000);

  it('refuses a report without the worker token (401) and one that is not a report (400), taking nothing from either', async () => {
    const before = await (await fetch(`${url}/metrics`)).text();
    const post = (auth: string, body: unknown) =>
      fetch(`${url}/__holdline/jobs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: auth }, body: JSON.stringify(body) });
    const report: JobReport = { job: 'intruder', pid: 1, metrics: [], backends: [], usage: [{ backend: 'x', model: 'x', requests: 1, promptTokens: 1, completionTokens: 1, costUsd: 99 }] };
    expect((await post('Bearer wrong', report)).status).toBe(401);
    const bad = await post(`Bearer ${token}`, { job: 'x', metrics: 'lots' });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { problems: string[] }).problems.join()).toMatch(/pid|metrics/);
    expect(await (await fetch(`${url}/metrics`)).text()).toBe(before);
  });

  it('a job that stops reporting without a final report (killed) is retired as last seen: its counters stay', async () => {
    let now = 0;
    const view = new FleetView(() => now, undefined, () => false);
    const metric = { name: 'holdline_holds_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value: 3, labels: {} }] };
    const gauge = { name: 'holdline_redis_up', help: 'u', type: 'gauge', aggregator: 'sum', values: [{ value: 1, labels: {} }] };
    view.accept({ job: 'killed', pid: 2, metrics: [metric, gauge] as unknown as JobReport['metrics'], backends: [], usage: [] });
    expect(view.status().jobs).toEqual({ live: 1, finished: 0 });
    now = JOB_SILENT_MS + 1;
    expect(view.status().jobs).toEqual({ live: 0, finished: 1 });
    const text = (await view.metrics()).text;
    expect(text).toMatch(/holdline_holds_total 3\n/);
    expect(text).not.toContain('holdline_redis_up'); // a dead process's gauge says nothing about now
  });

  it('a silent job whose process still runs stays live: its later reports, the final one included, count', async () => {
    let now = 0;
    const view = new FleetView(() => now, undefined, (pid) => pid === 4);
    const holds = (value: number) => [{ name: 'holdline_holds_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value, labels: {} }] }] as unknown as JobReport['metrics'];
    view.accept({ job: 'busy', pid: 4, metrics: holds(3), backends: [], usage: [] });
    now = JOB_SILENT_MS + 1; // its reports failed or were late for 15 s, but the process runs
    expect(view.status().jobs).toEqual({ live: 1, finished: 0 });
    view.accept({ job: 'busy', pid: 4, metrics: holds(12), backends: [], usage: [], final: true });
    expect(view.status().jobs).toEqual({ live: 0, finished: 1 });
    expect((await view.metrics()).text).toMatch(/holdline_holds_total 12\n/);
  });

  it('a late report from a retired job is ignored: its counters are not counted twice', async () => {
    let now = 0;
    const view = new FleetView(() => now, undefined, () => false);
    const metric = { name: 'holdline_holds_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value: 3, labels: {} }] };
    const report = { job: 'slow', pid: 3, metrics: [metric] as unknown as JobReport['metrics'], backends: [], usage: [] };
    view.accept(report);
    now = JOB_SILENT_MS + 1; // stalled, retired as last seen
    expect(view.status().jobs).toEqual({ live: 0, finished: 1 });
    view.accept(report); // it comes back...
    view.accept({ ...report, final: true }); // ...and ends
    expect(view.status().jobs).toEqual({ live: 0, finished: 1 });
    expect((await view.metrics()).text).toMatch(/holdline_holds_total 3\n/);
  });

  it('without the token a body is never read: 401, whatever its size; with it, a bad body is a JSON 400 or 413', async () => {
    const huge = 'x'.repeat(2 << 20);
    const anonymous = await fetch(`${url}/__holdline/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    expect(anonymous.status).toBe(401);
    const auth = { 'content-type': 'application/json', authorization: `Bearer ${token}` };
    const tooBig = await fetch(`${url}/__holdline/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ job: huge }) });
    expect(tooBig.status).toBe(413);
    expect(await tooBig.json()).toEqual({ error: 'a job report is at most 256kb' });
    const notJson = await fetch(`${url}/__holdline/jobs`, { method: 'POST', headers: auth, body: '{"job":' });
    expect(notJson.status).toBe(400);
    expect(await notJson.json()).toEqual({ error: 'a job report is JSON' });
    // A metric prom-client could not fold would break every later scrape: refused at the door.
    const metric = { name: 'm', help: 'h', type: 'counter', aggregator: 'median', values: [{ value: 1, labels: {} }] };
    const odd = await fetch(`${url}/__holdline/jobs`, { method: 'POST', headers: auth, body: JSON.stringify({ job: 'odd', pid: 1, metrics: [metric], backends: [], usage: [] }) });
    expect(odd.status).toBe(400);
  });
});

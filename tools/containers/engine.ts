/**
 * The Docker engine: find one that answers, or (root on Debian, nothing answering) install Debian's docker.io
 * and start dockerd on a private socket and data root, recording what it started so `stop` undoes exactly
 * that. See /work/shared/notes/containers-offline.md for how this was first verified by hand.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { aptGet } from '../kit/apt.js';
import { isAlive, killQuietly } from '../kit/processes.js';
import { exec, have, run } from '../kit/run-command.js';
import { currentBootId, paths, RUN_DIR, undoesNetwork, type EngineState } from './state.js';

type Say = (line: string) => void;

/** How long a `docker version` may take before the engine counts as not answering. */
const PROBE_TIMEOUT_MS = 15_000;
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 30_000;
/** dockerd turns IPv4 forwarding on for its bridges; stop puts back what was there. */
const IP_FORWARD = '/proc/sys/net/ipv4/ip_forward';

/** The server's version when an engine answers at `env`'s DOCKER_HOST (or the default socket), else undefined. */
export async function engineVersion(env: NodeJS.ProcessEnv = process.env): Promise<string | undefined> {
  const result = await exec('docker', ['version', '--format', '{{.Server.Version}}'], { env, timeoutMs: PROBE_TIMEOUT_MS });
  const version = result.stdout.trim();
  return result.code === 0 && version ? version : undefined;
}

/** Why this machine cannot get an engine from us, or undefined when it can (root on Debian with apt). */
export function installProblem(): string | undefined {
  if (process.platform !== 'linux') return `this is ${process.platform}: install Docker Desktop or another engine yourself`;
  if (!existsSync('/etc/debian_version')) return 'this is not Debian: install a Docker engine with your distribution\'s packages';
  if (process.getuid?.() !== 0) return 'installing and starting an engine needs root: run it as root, or start Docker yourself';
  return undefined;
}

/** Debian's packages for the engine, its bridge networking and the base image, installed only when missing. */
export async function installEnginePackages(say: Say): Promise<void> {
  const missing: string[] = [];
  if (!(await have('dockerd'))) missing.push('docker.io');
  if (!(await have('iptables'))) missing.push('iptables');
  if (!(await have('debootstrap'))) missing.push('debootstrap');
  if (missing.length === 0) return say('dockerd, iptables and debootstrap are installed');
  say(`apt-get install ${missing.join(' ')} (Debian's packages; nothing else is installed system-wide)`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await aptGet(['update', '-q'], { env, onLine: quiet(say) });
  await aptGet(['install', '-y', '-q', '--no-install-recommends', ...missing], { env, onLine: quiet(say) });
}

/** Shows apt's "Setting up" / "Get:" lines only: enough to see it move. */
function quiet(say: Say): (line: string) => void {
  return (line) => {
    if (/^(Setting up|Unpacking|Get:\d+)/.test(line)) say(`  ${line.slice(0, 120)}`);
  };
}

/**
 * Starts dockerd on RUN_DIR's socket with its own data and exec roots, waits until it answers and returns
 * what was started. Its managed containerd is found as its child. Bridge networking is dockerd's default
 * (docker0, iptables-nft); the chains and links it adds are recorded by taking a snapshot first.
 */
export async function startDockerd(say: Say, onSpawned: (started: NonNullable<EngineState['started']>) => void = () => {}): Promise<NonNullable<EngineState['started']>> {
  mkdirSync(RUN_DIR, { recursive: true });
  mkdirSync(paths.dataRoot(), { recursive: true });
  const iptablesBefore = await run('iptables-save', []);
  const ipForwardBefore = readFileSync(IP_FORWARD, 'utf8').trim();
  const linksBefore = await linkNames();
  if (linksBefore.includes('docker0')) say('warning: a docker0 link exists already (another engine?); dockerd will share it');
  const args = ['--host', `unix://${paths.socket}`, '--data-root', paths.dataRoot(), '--exec-root', `${RUN_DIR}/exec`, '--pidfile', `${RUN_DIR}/dockerd.pid`];
  say(`starting dockerd ${args.join(' ')} (log: ${paths.log})`);
  const log = openSync(paths.log, 'a');
  // Detached and unreferenced: the engine outlives this command until `npm run containers:stop`.
  const child = spawn('dockerd', args, { detached: true, stdio: ['ignore', log, log] });
  closeSync(log);
  const dockerdPid = child.pid;
  if (dockerdPid === undefined) throw new Error('dockerd could not be started');
  child.unref();
  // Recorded before the wait: a Ctrl-C or a failure from here on must still leave `containers:stop` what to stop.
  const bootId = currentBootId();
  const spawned = { dockerdPid, iptablesBefore, ipForwardBefore, linksBefore, ...(bootId && { bootId }) };
  onSpawned(spawned);
  const env = { ...process.env, DOCKER_HOST: `unix://${paths.socket}` };
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const version = await engineVersion(env);
    if (version) {
      say(`dockerd ${version} answers at unix://${paths.socket} (pid ${dockerdPid})`);
      break;
    }
    if (!isAlive(dockerdPid) || Date.now() > deadline) {
      const why = `dockerd ${isAlive(dockerdPid) ? 'did not answer within 90 s' : 'exited'}; its last log lines:\n${logTail()}`;
      // Everything it may have started (containerd, iptables chains, links), not only dockerd itself.
      await stopDockerd(spawned, `unix://${paths.socket}`, say);
      throw new Error(why);
    }
    await sleep(500);
  }
  return { ...spawned, containerdPid: childrenOf(dockerdPid, 'containerd')[0] };
}

function logTail(): string {
  try {
    return readFileSync(paths.log, 'utf8').trim().split('\n').slice(-15).join('\n');
  } catch {
    return '(no log)';
  }
}

/** True when `pid` runs and is `comm` (from /proc): a recorded pid may have been reused since. */
export function isProcess(pid: number, comm: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === comm;
  } catch {
    return false;
  }
}

/** Pids whose parent is `ppid` and whose command is `comm`, from /proc. */
function childrenOf(ppid: number, comm: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const parent = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parent === ppid && name === comm) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

async function linkNames(): Promise<string[]> {
  const out = await run('ip', ['-o', 'link', 'show']);
  return out
    .split('\n')
    .map((line) => line.split(':')[1]?.trim().split('@')[0])
    .filter((name): name is string => Boolean(name));
}

/**
 * Stops what `startDockerd` started: the containers and networks still in that engine (its own, private
 * socket: nobody else's), then dockerd and its containerd by pid, then the iptables chains and rules and the
 * links that were not there before it started.
 */
export async function stopDockerd(started: NonNullable<EngineState['started']>, dockerHost: string, say: Say): Promise<void> {
  const env = { ...process.env, DOCKER_HOST: dockerHost };
  // A pid from an older record may belong to another process by now (a reboot, a killed run): only ours are stopped.
  const dockerdPid = isProcess(started.dockerdPid, 'dockerd') ? started.dockerdPid : undefined;
  const containerdPid = [started.containerdPid, ...(dockerdPid ? childrenOf(dockerdPid, 'containerd') : [])].find((pid) => pid !== undefined && isProcess(pid, 'containerd'));
  if (dockerdPid !== undefined && (await engineVersion(env))) {
    // Best effort: a container that will not go must not keep the daemons running.
    try {
      const containers = (await run('docker', ['ps', '-aq'], { env })).split('\n').filter(Boolean);
      if (containers.length > 0) {
        say(`removing ${containers.length} container(s) left in the engine`);
        await run('docker', ['rm', '-f', '-v', ...containers], { env });
      }
      const pruned = await exec('docker', ['network', 'prune', '-f'], { env });
      if (pruned.stdout.trim()) say(`removed networks: ${pruned.stdout.trim().replace(/\s+/g, ' ')}`);
    } catch (error) {
      say(`warning: could not remove every container (${(error as Error).message.split('\n')[0]}); stopping the engine anyway`);
    }
  }
  for (const [name, pid] of [['dockerd', dockerdPid], ['containerd', containerdPid]] as const) {
    if (pid === undefined || !isAlive(pid)) continue;
    say(`stopping ${name} (pid ${pid})`);
    await stopPid(pid);
  }
  if (!undoesNetwork(started)) {
    say('the machine restarted since prepare started its engine: the iptables chains and links now are this boot\'s (left alone)');
    return;
  }
  await removeAddedIptables(started.iptablesBefore, say);
  if (started.ipForwardBefore !== undefined && readFileSync(IP_FORWARD, 'utf8').trim() !== started.ipForwardBefore) {
    say(`setting net.ipv4.ip_forward back to ${started.ipForwardBefore}`);
    writeFileSync(IP_FORWARD, started.ipForwardBefore);
  }
  for (const link of await linkNames()) {
    if (started.linksBefore.includes(link) || !/^(docker0|br-[0-9a-f]{12}|veth)/.test(link)) continue;
    say(`removing network link ${link}`);
    await exec('ip', ['link', 'delete', link]);
  }
}

async function stopPid(pid: number): Promise<void> {
  killQuietly(pid, 'SIGTERM');
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (isAlive(pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(pid)) killQuietly(pid, 'SIGKILL');
}

/** Deletes the rules and chains `iptables-save` shows now that it did not show before dockerd started. */
async function removeAddedIptables(before: string, say: Say): Promise<void> {
  const script = iptablesUndo(before, await run('iptables-save', []));
  if (!script) return;
  say('removing the iptables chains and rules dockerd added');
  await run('iptables-restore', ['--noflush'], { input: script });
}

/**
 * An iptables-restore script that removes, table by table, every rule and user chain in `after` that is not
 * in `before`: rules first (some jump to the chains), then the chains emptied and deleted. Pure.
 */
export function iptablesUndo(before: string, after: string): string {
  const old = parseIptables(before);
  const now = parseIptables(after);
  const blocks: string[] = [];
  for (const [table, { chains, rules, policies: nowPolicies }] of now) {
    const was = old.get(table) ?? { chains: new Set<string>(), rules: [], policies: new Map<string, string>() };
    const remaining = [...was.rules];
    const added: string[] = [];
    for (const rule of rules) {
      const index = remaining.indexOf(rule);
      if (index >= 0) remaining.splice(index, 1);
      else added.push(rule);
    }
    const newChains = [...chains].filter((chain) => !was.chains.has(chain));
    // dockerd sets FORWARD's policy to DROP when it turns forwarding on: put back the policies that changed.
    const policies = [...nowPolicies].filter(([chain, policy]) => was.policies?.get(chain) !== undefined && was.policies.get(chain) !== policy);
    // Rules inside chains that go away are flushed with them; delete the others one by one.
    const lines = added.filter((rule) => !newChains.includes(rule.split(' ')[1] ?? '')).map((rule) => rule.replace(/^-A /, '-D '));
    lines.push(...newChains.map((chain) => `-F ${chain}`), ...newChains.map((chain) => `-X ${chain}`));
    lines.push(...policies.map(([chain]) => `-P ${chain} ${was.policies.get(chain)}`));
    if (lines.length > 0) blocks.push(`*${table}`, ...lines, 'COMMIT');
  }
  return blocks.length > 0 ? `${blocks.join('\n')}\n` : '';
}

interface IptablesTable {
  /** User chains. */
  chains: Set<string>;
  rules: string[];
  /** Built-in chains' policies: FORWARD -> ACCEPT. */
  policies: Map<string, string>;
}

function parseIptables(text: string): Map<string, IptablesTable> {
  const tables = new Map<string, IptablesTable>();
  let current: IptablesTable | undefined;
  for (const line of text.split('\n')) {
    if (line.startsWith('*')) tables.set(line.slice(1), (current = { chains: new Set(), rules: [], policies: new Map() }));
    else if (line.startsWith(':') && current) {
      // Built-in chains carry a policy (":INPUT ACCEPT [0:0]"); user chains carry "-".
      const [chain = '', policy = '-'] = line.slice(1).split(' ');
      if (policy === '-') current.chains.add(chain);
      else current.policies.set(chain, policy);
    } else if (line.startsWith('-A ') && current) current.rules.push(line);
  }
  return tables;
}

import { describe, expect, it } from 'vitest';
import { currentBootId, engineEnv, undoesNetwork, type EngineState } from './state.js';

const started = (dockerdPid: number): EngineState['started'] => ({ dockerdPid, iptablesBefore: '', linksBefore: [] });

describe('engineEnv', () => {
  it('reaches the engine prepare started while its dockerd lives, with Ryuk disabled when it was', () => {
    const env = engineEnv({ dockerHost: 'unix:///tmp/holdline-docker/docker.sock', ryukDisabled: true, started: started(process.pid) });
    expect(env).toMatchObject({ DOCKER_HOST: 'unix:///tmp/holdline-docker/docker.sock', TESTCONTAINERS_RYUK_DISABLED: 'true' });
  });

  it('forgets an engine whose dockerd is gone', () => {
    const env = engineEnv({ dockerHost: 'unix:///tmp/holdline-docker/docker.sock', ryukDisabled: true, started: started(2 ** 22 + 1) });
    expect(env).not.toHaveProperty('DOCKER_HOST');
    expect(env).not.toHaveProperty('TESTCONTAINERS_RYUK_DISABLED');
  });

  it('keeps an engine it only found (nothing started) as it was recorded', () => {
    expect(engineEnv({ dockerHost: 'tcp://build-host:2375' })).toMatchObject({ DOCKER_HOST: 'tcp://build-host:2375' });
  });
});

describe('undoesNetwork (what containers:stop may remove)', () => {
  const record = (bootId?: string) => ({ dockerdPid: 1, iptablesBefore: '', linksBefore: [], ...(bootId && { bootId }) });

  it("undoes what an engine of this boot added, and not what exists after a reboot (a system dockerd's docker0 and chains)", () => {
    expect(undoesNetwork(record('boot-a'), 'boot-a')).toBe(true);
    expect(undoesNetwork(record('boot-a'), 'boot-b')).toBe(false);
  });

  it('undoes a record from before boot ids were kept, and where the kernel says none, as it always did', () => {
    expect(undoesNetwork(record(), 'boot-b')).toBe(true);
    expect(undoesNetwork(record('boot-a'), null)).toBe(true);
  });

  it("reads this machine's boot id (Linux)", () => {
    if (process.platform === 'linux') expect(currentBootId()).toMatch(/^[0-9a-f-]{36}$/);
  });
});

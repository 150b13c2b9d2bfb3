import { describe, expect, it } from 'vitest';
import { clockAddressProblem, toCoordinator, toParticipant } from './link.js';

describe('the control link', () => {
  it("takes the clock's address on this machine or by a host name a container has (holdline-clock), nothing else", () => {
    expect(clockAddressProblem('127.0.0.1:41234')).toBeUndefined();
    expect(clockAddressProblem('holdline-clock:41234')).toBeUndefined();
    for (const bad of ['127.0.0.1', 'holdline-clock:0', 'holdline-clock:70000', ':41234', 'a b:1', 'http://127.0.0.1:1']) {
      expect(clockAddressProblem(bad), bad).toMatch(/expected the virtual clock's address, HOST:PORT/);
    }
  });

  it('carries connection ends as "addr:port" (IPv6 in brackets), and refuses anything else', () => {
    const idle = (local: string) => ({ t: 'idle', next: null, listening: ['0.0.0.0:1'], crossings: [{ local, remote: '172.18.0.2:4010', written: 1, read: 0, closed: false }] });
    expect(toCoordinator.safeParse(idle('172.18.0.3:41000')).success).toBe(true);
    expect(toCoordinator.safeParse(idle('[::1]:41000')).success).toBe(true);
    for (const bad of ['41000', 'fake:4010', '172.18.0.3', `${'1'.repeat(90)}:1`]) expect(toCoordinator.safeParse(idle(bad)).success, bad).toBe(false);
    expect(toParticipant.safeParse({ t: 'peers', ends: ['172.18.0.2:4010'] }).success).toBe(true);
    expect(toParticipant.safeParse({ t: 'peers', ports: [4010] }).success).toBe(false);
  });
});

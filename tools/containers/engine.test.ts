import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { iptablesUndo, isProcess } from './engine.js';

const before = `*filter
:INPUT ACCEPT [0:0]
:FORWARD ACCEPT [0:0]
:OUTPUT ACCEPT [0:0]
:MINE - [0:0]
-A INPUT -j MINE
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
COMMIT
`;

// What dockerd 20.10 adds with its default bridge (abridged from a real iptables-save).
const after = `*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT ACCEPT [0:0]
:DOCKER - [0:0]
:DOCKER-USER - [0:0]
:MINE - [0:0]
-A INPUT -j MINE
-A FORWARD -j DOCKER-USER
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A DOCKER-USER -j RETURN
COMMIT
*nat
:PREROUTING ACCEPT [0:0]
:POSTROUTING ACCEPT [0:0]
:DOCKER - [0:0]
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
COMMIT
`;

describe('iptablesUndo', () => {
  it('removes exactly the rules and chains that appeared, and puts back a changed policy', () => {
    expect(iptablesUndo(before, after)).toBe(`*filter
-D FORWARD -j DOCKER-USER
-D FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-F DOCKER
-F DOCKER-USER
-X DOCKER
-X DOCKER-USER
-P FORWARD ACCEPT
COMMIT
*nat
-D PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-D POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-F DOCKER
-X DOCKER
COMMIT
`);
  });

  it('has nothing to do when nothing changed', () => {
    expect(iptablesUndo(before, before)).toBe('');
  });
});

describe('isProcess', () => {
  it('a recorded pid counts only while it runs the recorded program (pids are reused)', async () => {
    const child = spawn('sleep', ['30']);
    const pid = child.pid as number;
    expect(isProcess(pid, 'sleep')).toBe(true);
    expect(isProcess(pid, 'dockerd')).toBe(false);
    child.kill('SIGKILL');
    await once(child, 'exit');
    expect(isProcess(pid, 'sleep')).toBe(false);
  });
});

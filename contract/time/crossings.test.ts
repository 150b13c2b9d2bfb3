import { describe, expect, it } from 'vitest';
import { inFlight, type Crossing, type Reporter } from './crossings.js';

const end = (local: string, remote: string, written: number, read: number, closed = false): Crossing => ({ local, remote, written, read, closed });
const part = (name: string, listening: string[], crossings: Crossing[]): Reporter => ({ name, idle: { listening, crossings } });

describe('pairing connection ends by address and port (containers: each its own address)', () => {
  it('two containers both serving on 8080 at different addresses are two servers, each paired with its own client', () => {
    const parts = [
      part('runner', [], [end('172.18.0.1:50000', '172.18.0.2:8080', 100, 7), end('172.18.0.1:50000', '172.18.0.3:8080', 40, 9)]),
      part('fake', ['127.0.0.1:8080', '172.18.0.2:8080'], [end('172.18.0.2:8080', '172.18.0.1:50000', 7, 100)]),
      part('agent', ['127.0.0.1:8080', '172.18.0.3:8080'], [end('172.18.0.3:8080', '172.18.0.1:50000', 9, 40)]),
    ];
    expect(inFlight(parts).why).toBeUndefined();
    // The same port pair on a port-only key would have taken the fake's end for the agent's: 60 bytes unread.
    const agentBehind = [parts[0] as Reporter, parts[1] as Reporter, part('agent', ['172.18.0.3:8080'], [end('172.18.0.3:8080', '172.18.0.1:50000', 9, 30)])];
    expect(inFlight(agentBehind).why).toBe('10 byte(s) from runner to agent not read yet');
  });

  it('a client of a server on every interface, reached at its container address, is that server\'s connection', () => {
    // The agent (in a container) calls the fake by its compose name: the fake serves on 0.0.0.0, reported at each address.
    const fake = part('fake', ['127.0.0.1:4010', '172.18.0.2:4010'], []);
    const agent = part('agent', ['127.0.0.1:8081', '172.18.0.3:8081'], [end('172.18.0.3:41000', '172.18.0.2:4010', 300, 0)]);
    expect(inFlight([fake, agent]).why).toBe("agent's connection to 172.18.0.2:4010 is not accepted yet");
    const accepted = part('fake', ['127.0.0.1:4010', '172.18.0.2:4010'], [end('172.18.0.2:4010', '172.18.0.3:41000', 0, 300)]);
    expect(inFlight([accepted, agent]).why).toBeUndefined();
  });

  it("a container's own health check on its loopback is not a participant's connection", () => {
    const agent = part('agent', ['127.0.0.1:8081', '172.18.0.3:8081'], [end('127.0.0.1:8081', '127.0.0.1:39000', 0, 80)]);
    expect(inFlight([agent, part('fake', ['127.0.0.1:4010', '172.18.0.2:4010'], [])]).why).toBeUndefined();
  });

  it('a connection to an address where no participant serves is a server outside, whatever its port', () => {
    // llama.cpp's container on 8080, next to a participant that serves on 8080 at another address.
    const agent = part('agent', ['172.18.0.3:8080'], [end('172.18.0.3:41001', '172.18.0.4:8080', 500, 0)]);
    expect(inFlight([agent]).why).toBeUndefined();
  });
});

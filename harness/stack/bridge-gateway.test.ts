import { describe, expect, it } from 'vitest';
import { bridgeGateway } from './bridge-gateway.js';

describe("the default bridge's IPv4 gateway", () => {
  it('is the one the engine names', () => {
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: '172.17.0.0/16', Gateway: '172.17.0.1' }] } })).toBe('172.17.0.1');
  });

  it("is the subnet's first host on an engine's first start, which names the subnet alone (dockerd 20.10, new data root)", () => {
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: '172.17.0.0/16' }] } })).toBe('172.17.0.1');
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: '10.200.3.128/25' }] } })).toBe('10.200.3.129');
  });

  it('is IPv4 only, and undefined when there is none to be had', () => {
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: 'fd00::/64', Gateway: 'fd00::1' }, { Subnet: '192.168.5.0/24' }] } })).toBe('192.168.5.1');
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: 'fd00::/64' }] } })).toBeUndefined();
    expect(bridgeGateway({ IPAM: { Config: [] } })).toBeUndefined();
    expect(bridgeGateway({ IPAM: { Config: null } })).toBeUndefined();
    expect(bridgeGateway({})).toBeUndefined();
    expect(bridgeGateway({ IPAM: { Config: [{ Subnet: '300.1.0.0/16' }, { Subnet: '10.0.0.0/31' }] } })).toBeUndefined();
  });
});

import { describe, expect, it } from 'vitest';
import { endpoint, normaliseAddress, ownAddresses, portOf, reachableAt } from './endpoints.js';

describe('connection ends as "addr:port"', () => {
  it('spells an IPv4-mapped peer as IPv4, and IPv6 in brackets', () => {
    expect(normaliseAddress('::ffff:172.18.0.3')).toBe('172.18.0.3');
    expect(endpoint('::FFFF:127.0.0.1', 80)).toBe('127.0.0.1:80');
    expect(endpoint('::1', 8080)).toBe('[::1]:8080');
    expect(portOf('[::1]:8080')).toBe(8080);
  });

  it('a server on 0.0.0.0 is reached at every IPv4 address of its interfaces; on :: at every one; on one address, there only', () => {
    const interfaces = ['127.0.0.1', '172.18.0.3', '::1'];
    expect(reachableAt('0.0.0.0', 4010, interfaces)).toEqual(['127.0.0.1:4010', '172.18.0.3:4010']);
    expect(reachableAt('::', 4010, interfaces)).toEqual(['127.0.0.1:4010', '172.18.0.3:4010', '[::1]:4010']);
    expect(reachableAt('127.0.0.1', 4010, interfaces)).toEqual(['127.0.0.1:4010']);
  });

  it("finds this machine's own addresses, loopback included", () => {
    expect(ownAddresses()).toContain('127.0.0.1');
  });
});

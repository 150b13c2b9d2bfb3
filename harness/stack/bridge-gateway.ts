/**
 * The IPv4 address of the engine's default bridge on this machine: where containers reach the host (Compose's
 * `host-gateway`), and so where the runner's clock listens on virtual time (containers.ts).
 *
 * `docker network inspect bridge` names it as the IPAM config's `Gateway`, except on an engine's first start with a
 * new data root (dockerd 20.10 here: `{"Subnet":"172.17.0.0/16"}` with no `Gateway`, which the next start adds). The
 * bridge then still has Docker's default gateway, the subnet's first host address (`docker0` held 172.17.0.1), so
 * that is the answer. Hand-written: a few lines of IPv4 arithmetic, no library needed.
 */
export interface BridgeIpam {
  IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] | null } | null;
}

export function bridgeGateway(bridge: BridgeIpam): string | undefined {
  const configs = (bridge.IPAM?.Config ?? []).filter((c) => !(c.Gateway ?? c.Subnet ?? ':').includes(':'));
  const named = configs.find((c) => c.Gateway)?.Gateway;
  if (named) return named;
  for (const { Subnet } of configs) {
    const first = firstHost(Subnet);
    if (first) return first;
  }
  return undefined;
}

/** "172.17.0.0/16" -> "172.17.0.1"; undefined for anything that is not an IPv4 CIDR with room for a host. */
function firstHost(cidr: string | undefined): string | undefined {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr ?? '');
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255) || prefix > 30) return undefined;
  const address = octets.reduce((value, octet) => value * 256 + octet, 0);
  const size = 2 ** (32 - prefix);
  const host = address - (address % size) + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(host / 2 ** shift) % 256).join('.');
}

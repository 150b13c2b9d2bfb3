import { describe, expect, it } from 'vitest';
import { mirrorIn } from './plugins.js';

describe("the Debian mirror apt uses", () => {
  it('reads deb822 .sources, skipping security and third-party repositories', () => {
    const sources = [
      'Types: deb\nURIs: https://deb.nodesource.com/node_20.x\nSuites: nodistro\n',
      'Types: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\n',
      'Types: deb\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n',
    ].join('\n');
    expect(mirrorIn(sources)).toBe('http://mirror.example/debian');
  });

  it('reads one-line sources.list entries', () => {
    expect(mirrorIn('deb [arch=amd64] http://ftp.de.debian.org/debian bookworm main\n')).toBe('http://ftp.de.debian.org/debian');
    expect(mirrorIn('deb http://security.debian.org/debian-security bookworm-security main\n')).toBeUndefined();
  });
});

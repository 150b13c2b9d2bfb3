/**
 * Testcontainers, loaded only when the container stack is asked about or used. It is a dev dependency here and
 * not one of the published `holdline` package's: that package rehearses on child processes, and a user who
 * wants containers installs testcontainers beside it. A static import would break every `holdline scenario`.
 */
export type Testcontainers = typeof import('testcontainers');

let loaded: Promise<Testcontainers | undefined> | undefined;

/** The module, or undefined when it is not installed. */
export function loadTestcontainers(): Promise<Testcontainers | undefined> {
  loaded ??= import('testcontainers').catch(() => undefined);
  return loaded;
}

export const TESTCONTAINERS_MISSING = 'the testcontainers package is not installed (npm i -D testcontainers)';

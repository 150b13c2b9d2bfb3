/** A virtual clock that cannot go on, as a failed service: the rehearsal ends with exit 3 and says why. */
import type { ServiceFailure } from './stack.js';

export function virtualClockFailure(): { report: (why: string) => void; failed: Promise<ServiceFailure> } {
  let report: (why: string) => void = () => {};
  const failed = new Promise<ServiceFailure>((resolve) => {
    report = (why) => resolve({ service: 'the virtual clock', how: why, output: [] });
  });
  return { report, failed };
}

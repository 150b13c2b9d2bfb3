/**
 * Work a virtual clock cannot see on its own: a call to a server outside the process over a plain socket (Redis),
 * whose reply is on its way. Code that makes such a call holds time until the reply or its own deadline; a
 * clock that skips idle time (quiet.ts) counts a hold as work in progress. On wall time it is a counter nobody
 * reads.
 */
let holds = 0;
/** Called (each in a microtask) whenever the last hold is released. */
const onRelease = new Set<() => void>();

/** Holds time until the returned function is called (once; later calls do nothing). */
export function holdTime(): () => void {
  holds++;
  let released = false;
  return () => {
    if (released) return;
    released = true;
    holds--;
    if (holds === 0) for (const fn of onRelease) queueMicrotask(fn);
  };
}

/**
 * Calls `fn` whenever nothing holds time any more; returns the function that stops it. The coordinator lives in the
 * runner's process and looks at its holds directly (coordinator.ts): it must look again once they are gone.
 */
export function whenTimeReleased(fn: () => void): () => void {
  onRelease.add(fn);
  return () => onRelease.delete(fn);
}

/** Runs `work` with time held until it settles, whichever way. */
export async function whileHeld<T>(work: () => Promise<T>): Promise<T> {
  const release = holdTime();
  try {
    return await work();
  } finally {
    release();
  }
}

/** Something holds time. */
export function timeHeld(): boolean {
  return holds > 0;
}

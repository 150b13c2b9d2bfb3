/** A body's JSON, or undefined when it is not JSON (the caller answers with its own 400). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A session error event's payload in plain fields (its shape differs by component). */
export function describeSessionError(error: unknown): { type: string; message: string; recoverable: boolean } {
  const e = error as { type?: string; error?: { message?: string }; recoverable?: boolean; message?: string };
  return { type: String(e?.type ?? 'error'), message: String(e?.error?.message ?? e?.message ?? error), recoverable: Boolean(e?.recoverable) };
}

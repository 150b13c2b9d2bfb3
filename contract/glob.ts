/**
 * Model-id globs: `*` is any run of characters (slashes included), `?` one character. Written by hand because
 * path globbers (picomatch, minimatch) stop `*` at `/`, and every OpenRouter model id has one:
 * `*` must match `meta-llama/llama-3.3-70b-instruct:free`.
 */
const cache = new Map<string, RegExp>();

export function globToRegExp(glob: string): RegExp {
  let re = cache.get(glob);
  if (!re) {
    const body = glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${body}$`);
    cache.set(glob, re);
  }
  return re;
}

export function matchesGlob(glob: string, value: string): boolean {
  return globToRegExp(glob).test(value);
}

/** True when the pattern names exactly one model (no wildcard). */
export function isLiteralModel(glob: string): boolean {
  return !/[*?]/.test(glob);
}

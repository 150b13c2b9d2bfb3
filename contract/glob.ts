/**
 * Model-id globs: `*` is any run of characters (slashes included), `?` one character. Written by hand because
 * path globbers (picomatch, minimatch) stop `*` at `/`, and every OpenRouter model id has one:
 * `*` must match `meta-llama/llama-3.3-70b-instruct:free`.
 *
 * Not a regular expression: `^.*a.*a.*a.*b$` backtracks, polynomially in the id with one more power per star,
 * and a rule written that way froze the fake for seconds per request (ids are request-controlled, up to the body
 * limit). Instead the pattern is split at its stars and each piece is found leftmost-first, never revisited:
 * a star can always absorb what lies between two pieces, so the leftmost place for each piece is as good as any.
 * Work is at most (id length + pattern length) x longest piece, character comparisons; no backtracking.
 */

/** Counts the work of one match, for tests that check it stays linear. */
export interface GlobWork {
  comparisons: number;
}

interface CompiledGlob {
  /** The pattern split at `*`: `a*b*c` -> [a, b, c]; `*a*` -> ['', a, '']. */
  pieces: string[];
}

const compiled = new Map<string, CompiledGlob>();
/** Globs come from scenarios (a handful); the bound only keeps swapped-in scenarios from growing it forever. */
const CACHE_LIMIT = 1000;

function compile(glob: string): CompiledGlob {
  let c = compiled.get(glob);
  if (!c) {
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    c = { pieces: glob.split('*') };
    compiled.set(glob, c);
  }
  return c;
}

export function matchesGlob(glob: string, value: string, work: GlobWork = { comparisons: 0 }): boolean {
  const { pieces } = compile(glob);
  const first = pieces[0] as string;
  if (pieces.length === 1) return value.length === first.length && pieceAt(first, value, 0, work);

  const last = pieces[pieces.length - 1] as string;
  const end = value.length - last.length;
  if (end < first.length || !pieceAt(first, value, 0, work) || !pieceAt(last, value, end, work)) return false;
  let at = first.length;
  for (let i = 1; i < pieces.length - 1; i++) {
    const piece = pieces[i] as string;
    const found = findPiece(piece, value, at, end, work);
    if (found < 0) return false;
    at = found + piece.length;
  }
  return true;
}

/** True when `piece` (with `?` matching any one character) is in `value` at `at`. */
function pieceAt(piece: string, value: string, at: number, work: GlobWork): boolean {
  for (let j = 0; j < piece.length; j++) {
    work.comparisons++;
    const p = piece.charCodeAt(j);
    if (p !== QUESTION && p !== value.charCodeAt(at + j)) return false;
  }
  return true;
}

/** Leftmost place at or after `from` where `piece` fits wholly before `end`, or -1. */
function findPiece(piece: string, value: string, from: number, end: number, work: GlobWork): number {
  for (let at = from; at + piece.length <= end; at++) if (pieceAt(piece, value, at, work)) return at;
  return -1;
}

const QUESTION = '?'.charCodeAt(0);

/** True when the pattern names exactly one model (no wildcard). */
export function isLiteralModel(glob: string): boolean {
  return !/[*?]/.test(glob);
}

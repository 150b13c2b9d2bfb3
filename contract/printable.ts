/**
 * Text a client sent (a model id, a path), made safe to print and to keep: control characters, line breaks and
 * the Unicode controls that reorder or hide text (bidi overrides, zero-width marks) become visible escapes, so a
 * request cannot clear a terminal, forge a log line or hide what it asked for; and the text is clipped, so a 4 MB
 * model id costs a line, not 4 MB, wherever it is kept or shown.
 */

/** Longest client text kept in a journal field or printed on a line, characters. */
export const CLIENT_TEXT_MAX_CHARS = 256;

// C0 controls, DEL, C1 controls; the bidi embeddings, overrides and isolates; zero-width marks; line and
// paragraph separators; the byte order mark.
// eslint-disable-next-line no-control-regex
const UNPRINTABLE = /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

/** `text` clipped to `maxChars` (saying how much was cut), with nothing a terminal would act on. */
export function printable(text: string, maxChars = CLIENT_TEXT_MAX_CHARS): string {
  return escapeControls(clip(text, maxChars));
}

/**
 * Clips to `maxChars`, saying how many characters were cut: `abc...(+1000 characters)`. The kept part is copied:
 * V8 may make `slice` a view that keeps the whole original alive, so a clipped 4 MB id would still cost 4 MB.
 */
export function clip(text: string, maxChars = CLIENT_TEXT_MAX_CHARS): string {
  if (text.length <= maxChars) return text;
  const kept = JSON.parse(JSON.stringify(text.slice(0, maxChars))) as string;
  return `${kept}...(+${text.length - maxChars} characters)`;
}

/** `\n` -> `\\n`, ESC -> `\\u001b`, U+202E -> `\\u202e`: one visible escape per invisible character. */
export function escapeControls(text: string): string {
  return text.replace(UNPRINTABLE, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    if (c === '\t') return '\\t';
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** A text quoted for a terminal line: JSON's quoting (which escapes C0 and line breaks) plus the rest above. */
export function quoted(text: string): string {
  return escapeControls(JSON.stringify(text));
}

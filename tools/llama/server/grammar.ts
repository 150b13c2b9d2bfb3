/**
 * GBNF for "always answer exactly this sentence". llama-server's `--grammar` constrains every completion,
 * streamed or not, so the local fallback says a sentence tests can assert exactly.
 */

/** What the local model says, unless told otherwise. */
export const FALLBACK_SENTENCE = 'The local model is answering.';

/**
 * `text` as a GBNF string literal: quotes and backslashes escaped, newline/tab/return as \n \t \r, other
 * control characters as \xNN. Everything else, including non-ASCII, is literal UTF-8 (GBNF reads it as such).
 */
export function gbnfLiteral(text: string): string {
  let out = '"';
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    if (char === '"' || char === '\\') out += `\\${char}`;
    else if (char === '\n') out += '\\n';
    else if (char === '\r') out += '\\r';
    else if (char === '\t') out += '\\t';
    else if (code < 0x20 || code === 0x7f) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += char;
  }
  return `${out}"`;
}

/** A grammar whose only sentence is `sentence`. */
export function fixedSentenceGrammar(sentence: string): string {
  if (sentence.length === 0) throw new Error('the grammar sentence must not be empty');
  return `root ::= ${gbnfLiteral(sentence)}`;
}

/**
 * Response headers a scenario may add (a `status` fault's `headers`), checked when the scenario loads: a name
 * Node refuses would otherwise pass the schema and turn every matching request into a 500, and a framing header
 * (`content-length`, `transfer-encoding`...) would contradict the framing the fake writes itself, so a client
 * would see two lengths, or a body cut short.
 */
import { z } from 'zod';

/** RFC 7230 `token`: the characters a header name may hold. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** RFC 7230 `field-value` as Node accepts it: tab, visible ASCII, space, obs-text; never CR, LF or NUL. */
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
/** Longest header value, characters: real ones are short, and Node's clients refuse more than 16 KB of headers. */
export const HEADER_VALUE_MAX_CHARS = 4096;
/** Most headers one fault may add. */
export const HEADERS_MAX = 50;

/**
 * Headers the fake writes itself. Framing and connection management (RFC 9112 section 6, RFC 9110 section 7.6.1)
 * and the content type the body is written in: a scenario that set them would contradict the bytes on the wire.
 */
export const RESERVED_HEADERS = [
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'proxy-connection',
  'upgrade',
  'te',
  'trailer',
  'host',
  'content-type',
  'content-encoding',
] as const;

const headerName = z
  .string()
  .regex(TOKEN, { error: (issue) => `expected a header name (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(issue.input)}` })
  .refine((name) => !(RESERVED_HEADERS as readonly string[]).includes(name.toLowerCase()), {
    error: (issue) => `${String(issue.input)} is written by the fake itself (it frames the response); it cannot be scripted`,
  });

const headerValue = z
  .string()
  .max(HEADER_VALUE_MAX_CHARS, { error: `expected a header value of at most ${HEADER_VALUE_MAX_CHARS} characters` })
  .regex(FIELD_VALUE, { error: 'expected a header value without line breaks or control characters (tab allowed)' });

export const responseHeaders = z
  .record(headerName, headerValue)
  .refine((headers) => Object.keys(headers).length <= HEADERS_MAX, { error: `expected at most ${HEADERS_MAX} headers` })
  .refine((headers) => new Set(Object.keys(headers).map((k) => k.toLowerCase())).size === Object.keys(headers).length, {
    error: 'expected each header once (names are case-insensitive)',
  });

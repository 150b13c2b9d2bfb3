/**
 * `response_format`: the reply as JSON. `json_object` gets the scripted text when it already is a JSON object, else
 * `{"answer": text}`; `json_schema` gets the scripted text when it validates against the schema, else an example
 * built from the schema (strings carry the reply's text) and checked against it with zod's `fromJSONSchema`.
 *
 * The example builder is hand-written: it covers what structured-output schemas use (object, array, string,
 * number, integer, boolean, null, enum, const, anyOf/oneOf, min/max bounds and lengths); `$ref`, `pattern` and
 * `format` are not followed, and an example that fails the schema is still sent (a model can fail one too).
 */
import { z } from 'zod';
import type { ChatRequest } from './request.js';

type Schema = Record<string, unknown>;

/** The JSON text of a structured reply, or undefined when the request asks for plain text. */
export function structuredText(format: ChatRequest['response_format'], text: string): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const parsed = parseJson(text);
  if (format.type === 'json_object') {
    return JSON.stringify(isObject(parsed) ? parsed : { answer: text });
  }
  const schema = (format.json_schema.schema ?? {}) as Schema;
  if (parsed !== undefined && validates(schema, parsed)) return JSON.stringify(parsed);
  return JSON.stringify(exampleOf(schema, text));
}

/** True when `value` meets `schema` (as far as zod reads JSON Schema). */
export function validates(schema: Schema, value: unknown): boolean {
  try {
    return z.fromJSONSchema(schema as never).safeParse(value).success;
  } catch {
    return false;
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** A value meeting `schema`, strings carrying `text`. Deterministic. */
export function exampleOf(schema: Schema, text: string): unknown {
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives[0]) return exampleOf(alternatives[0], text);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const type = types.find((t) => t !== 'null') ?? types[0] ?? (isObject(schema.properties) ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const props = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
      return Object.fromEntries(Object.entries(props).map(([key, sub]) => [key, exampleOf(sub, text)]));
    }
    case 'array': {
      const count = Math.max(1, num(schema.minItems) ?? 0);
      const limited = Math.min(count, num(schema.maxItems) ?? count);
      return Array.from({ length: limited }, () => exampleOf(isObject(schema.items) ? (schema.items as Schema) : {}, text));
    }
    case 'integer':
    case 'number': {
      const exclusive = num(schema.exclusiveMinimum);
      const low = num(schema.minimum) ?? (exclusive !== undefined ? exclusive + 1 : 0);
      const high = num(schema.maximum) ?? (num(schema.exclusiveMaximum) !== undefined ? (num(schema.exclusiveMaximum) as number) - 1 : low);
      const value = Math.min(low, high);
      return type === 'integer' ? Math.ceil(value) : value;
    }
    case 'boolean':
      return true;
    case 'null':
      return null;
    default: {
      const min = num(schema.minLength) ?? 0;
      const max = num(schema.maxLength) ?? Number.POSITIVE_INFINITY;
      return text.padEnd(min, '.').slice(0, max);
    }
  }
}

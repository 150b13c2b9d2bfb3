/**
 * `response_format`: the reply as JSON. `json_object` gets the scripted text when it already is a JSON object, else
 * `{"answer": text}`; `json_schema` gets the scripted text when it validates against the schema, else an example
 * built from the schema (strings carry the reply's text) and checked against it with zod's `fromJSONSchema`.
 *
 * The example builder is hand-written: it covers what structured-output schemas use (object, array, string,
 * number, integer, boolean, null, enum, const, anyOf/oneOf, min/max bounds and lengths); `$ref`, `pattern` and
 * `format` are not followed, and an example that fails the schema is still sent (a model can fail one too).
 *
 * The schema is the client's: a 150-byte one can ask for 10^9 array items or a 400 MB string, nest deeper than the
 * stack, or carry a `pattern` that backtracks. So the example is built on a budget (depth, values, characters;
 * past it the example is cut short, and may fail the schema), and validation reads a copy without `pattern`s.
 */
import { z } from 'zod';
import type { ChatRequest } from './request.js';
import { parseJsonOrUndefined } from '../json.js';

type Schema = Record<string, unknown>;

/** The JSON text of a structured reply, or undefined when the request asks for plain text. */
export function structuredText(format: ChatRequest['response_format'], text: string): string | undefined {
  if (!format || format.type === 'text') return undefined;
  const parsed = parseJsonOrUndefined(text);
  if (format.type === 'json_object') {
    return JSON.stringify(isObject(parsed) ? parsed : { answer: text });
  }
  const schema = (format.json_schema.schema ?? {}) as Schema;
  if (parsed !== undefined && validates(schema, parsed)) return JSON.stringify(parsed);
  return JSON.stringify(exampleOf(schema, text));
}

/** How much of a client's schema is followed: nesting, values in one example, characters in one string. */
export const SCHEMA_BUDGET = { depth: 32, values: 10_000, characters: 256 * 1024 };

/** True when `value` meets `schema` (as far as zod reads JSON Schema; `pattern`s are not checked). */
export function validates(schema: Schema, value: unknown): boolean {
  const safe = withoutPatterns(schema, 0);
  if (safe === undefined) return false;
  try {
    return z.fromJSONSchema(safe as never).safeParse(value).success;
  } catch {
    return false;
  }
}

/** A copy without `pattern`/`patternProperties` (a client's regular expression may backtrack); undefined when too deep. */
function withoutPatterns(value: unknown, depth: number): unknown {
  if (depth > SCHEMA_BUDGET.depth) return undefined;
  if (Array.isArray(value)) {
    const items = value.map((item) => withoutPatterns(item, depth + 1));
    return items.includes(undefined) ? undefined : items;
  }
  if (!isObject(value)) return value;
  const copy: Record<string, unknown> = {};
  for (const [key, sub] of Object.entries(value)) {
    if (key === 'pattern' || key === 'patternProperties') continue;
    const safe = withoutPatterns(sub, depth + 1);
    if (safe === undefined) return undefined;
    copy[key] = safe;
  }
  return copy;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

const num = (value: unknown): number | undefined => (typeof value === 'number' ? value : undefined);

/** A value meeting `schema` (within SCHEMA_BUDGET), strings carrying `text`. Deterministic. */
export function exampleOf(schema: Schema, text: string): unknown {
  return exampleWithin(schema, text, 0, { values: SCHEMA_BUDGET.values, characters: SCHEMA_BUDGET.characters });
}

function exampleWithin(schema: Schema, text: string, depth: number, left: { values: number; characters: number }): unknown {
  left.values -= 1;
  if (depth > SCHEMA_BUDGET.depth || left.values < 0) return null;
  const sub = (next: unknown) => exampleWithin(isObject(next) ? next : {}, text, depth + 1, left);
  if ('const' in schema) return schema.const;
  if (Array.isArray(schema.enum) && schema.enum.length > 0) return schema.enum[0];
  const alternatives = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (Array.isArray(alternatives) && alternatives[0]) return sub(alternatives[0]);
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const type = types.find((t) => t !== 'null') ?? types[0] ?? (isObject(schema.properties) ? 'object' : 'string');
  switch (type) {
    case 'object': {
      const props = isObject(schema.properties) ? (schema.properties as Record<string, Schema>) : {};
      const entries: [string, unknown][] = [];
      for (const [key, value] of Object.entries(props)) {
        if (left.values <= 0) break;
        entries.push([key, sub(value)]);
      }
      return Object.fromEntries(entries);
    }
    case 'array': {
      const count = Math.max(1, num(schema.minItems) ?? 0);
      const limited = Math.min(count, num(schema.maxItems) ?? count);
      const items: unknown[] = [];
      while (items.length < limited && left.values > 0) items.push(sub(schema.items));
      return items;
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
      const min = Math.min(num(schema.minLength) ?? 0, Math.max(0, left.characters));
      const max = num(schema.maxLength) ?? Number.POSITIVE_INFINITY;
      const value = text.padEnd(min, '.').slice(0, max);
      left.characters -= value.length;
      return value;
    }
  }
}

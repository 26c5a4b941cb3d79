/**
 * The HTTP API's query parameters as OpenAPI describes them: what each
 * means (its schema says what it accepts) and how it travels.
 */
import type { z } from "zod";
import { MAX_BUCKET } from "../core/position-index.ts";
import { type JsonSchema, jsonSchema } from "./json-schema.ts";

/** What the query parameters mean: their schemas say what they accept. */
const PARAM_HINTS: Record<string, string> = {
  anchor:
    "newest, oldest, first_unread (the first message after the user's read marker), id:<id>, " +
    "pos:<n> (clamped to the channel) or ts:<ms> (first ts ≥ it)",
  before: "messages before the anchor",
  after: "messages after the anchor",
  points: "how many points",
  exact:
    "false: each point at the start of the position index's bucket nearest its even position " +
    `(within ${MAX_BUCKET / 2} messages), read from memory: no row read per point (an extension of the contract)`,
  user: "the user, on an open worker (with a token the user is its sub): the socket's, or whose read marker first_unread means",
};

/**
 * A query parameter as it travels. Numbers are decimal strings that the
 * schema turns into integers: OpenAPI describes such a parameter as an
 * integer (form style), with the bounds and default of the parsed value
 * (a wire form that refuses "-1" has no negatives, whatever the parsed
 * schema's lower bound); `true` / `false` likewise as a boolean. Anything
 * else is described by its wire (input) form.
 */
export function queryParameter(name: string, schema: z.ZodType): JsonSchema {
  const wire = jsonSchema(schema, "input");
  const parsed = jsonSchema(schema, "output");
  const unsigned = !schema.safeParse("-1").success;
  const value =
    parsed.type === "integer"
      ? { ...parsed, ...(unsigned ? { minimum: Math.max(Number(parsed.minimum ?? 0), 0) } : {}) }
      : parsed.type === "boolean"
        ? parsed
        : { ...wire, ...("default" in parsed ? { default: parsed.default } : {}) };
  return {
    name,
    in: "query",
    // Required exactly when the schema rejects its absence.
    required: !schema.safeParse(undefined).success,
    ...(PARAM_HINTS[name] ? { description: PARAM_HINTS[name] } : {}),
    schema: value,
  };
}

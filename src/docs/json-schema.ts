/** zod → JSON Schema (draft 2020-12, the dialect of OpenAPI 3.1 and of AsyncAPI's payloads). */
import { z } from "zod";

export type JsonSchema = { [key: string]: unknown };

/**
 * Which side of a schema to describe: what a client sends (`input`: defaults
 * optional, before transforms) or what the server answers (`output`).
 * Transforms have no JSON Schema: they are described by their input, and an
 * output-only transform as "any" (`unrepresentable`), never a throw.
 */
export type Io = "input" | "output";

/** Drops what an embedded schema must not repeat: the dialect and generated ids. */
function embeddable({ $schema: _schema, $id: _id, ...rest }: JsonSchema): JsonSchema {
  return rest;
}

/** One schema, inline (nested schemas inlined too); AsyncAPI's payloads want draft 7. */
export function jsonSchema(
  schema: z.ZodType,
  io: Io,
  target: "draft-2020-12" | "draft-7" = "draft-2020-12",
): JsonSchema {
  return embeddable(z.toJSONSchema(schema, { io, target, unrepresentable: "any" }) as JsonSchema);
}

/**
 * Named schemas as components: each is converted once, and wherever one is
 * nested in another (a Message in a PageBody) it becomes a `$ref` to
 * `${prefix}${name}` instead of a copy.
 */
export function components(
  named: Record<string, z.ZodType>,
  io: Io,
  prefix: string,
): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(named)) registry.add(schema, { id });
  const { schemas } = z.toJSONSchema(registry, {
    io,
    unrepresentable: "any",
    uri: (id) => `${prefix}${id}`,
  }) as { schemas: Record<string, JsonSchema> };
  return Object.fromEntries(Object.entries(schemas).map(([id, s]) => [id, embeddable(s)]));
}

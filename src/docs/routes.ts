/**
 * The API's self-description, mounted on the worker: the OpenAPI and
 * AsyncAPI documents (public, like the reference page at /docs that renders
 * them: they describe the API, they grant nothing).
 */
import { Hono } from "hono";
import { asyncApiDocument } from "./asyncapi.ts";
import type { JsonSchema } from "./json-schema.ts";
import { openApiDocument } from "./openapi.ts";

/** Builds a document once per isolate: the schemas do not change while it lives. */
function once(build: () => JsonSchema): () => JsonSchema {
  let built: JsonSchema | undefined;
  return () => {
    built ??= build();
    return built;
  };
}

const openApi = once(openApiDocument);
const asyncApi = once(asyncApiDocument);

export const docs = new Hono();

docs.get("/v1/openapi.json", (c) => c.json(openApi()));
docs.get("/v1/asyncapi.json", (c) => c.json(asyncApi()));

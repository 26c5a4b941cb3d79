/**
 * The OpenAPI and AsyncAPI documents, checked by the ecosystem's own
 * validators (the OpenAPI 3.1 schema, the AsyncAPI parser) and against the
 * protocol: every frame type of both unions is a message, every error code a
 * response. The worker test checks real answers and frames against them.
 */
import { Parser } from "@asyncapi/parser";
import { Validator } from "@seriousme/openapi-schema-validator";
import { describe, expect, it } from "vitest";
import { asyncApiDocument } from "../../src/docs/asyncapi.ts";
import { openApiDocument } from "../../src/docs/openapi.ts";
import { ClientFrame, ServerFrame } from "../../src/protocol/schemas.ts";
import { STATUS_OF } from "../support/wire.ts";

type Json = Record<string, unknown>;
const openApi = openApiDocument() as {
  paths: Record<string, Record<string, { parameters?: Json[]; responses: Json }>>;
};
const asyncApi = asyncApiDocument() as { components: { messages: Record<string, Json> } };

describe("OpenAPI document", () => {
  it("is a valid OpenAPI 3.1 document", async () => {
    const result = await new Validator().validate(structuredClone(openApi));
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it("answers every error code of the protocol with its status somewhere", () => {
    const statuses = new Set(
      Object.values(openApi.paths).flatMap((item) =>
        Object.values(item).flatMap((op) => Object.keys(op.responses ?? {})),
      ),
    );
    // HTTP has no rate limit (README, Security): every other code is a response.
    const { rate_limited: _, ...http } = STATUS_OF;
    for (const status of Object.values(http)) expect(statuses).toContain(String(status));
  });

  it("describes numeric query parameters as integers with their bounds and defaults", () => {
    const page = openApi.paths["/v1/channels/{ch}/messages"]?.get?.parameters ?? [];
    expect(page.find((p) => p.name === "before")).toMatchObject({
      required: false,
      schema: { type: "integer", minimum: 0, maximum: 200, default: 25 },
    });
    expect(page.find((p) => p.name === "anchor")).toMatchObject({
      required: false,
      schema: { type: "string", default: "newest" },
    });
    const timeline = openApi.paths["/v1/channels/{ch}/timeline"]?.get?.parameters ?? [];
    expect(timeline.find((p) => p.name === "points")).toMatchObject({
      required: false,
      schema: { type: "integer", minimum: 2, maximum: 1000, default: 100 },
    });
  });
});

describe("AsyncAPI document", () => {
  it("is a valid AsyncAPI 3 document", async () => {
    const { document, diagnostics } = await new Parser().parse(JSON.stringify(asyncApi));
    // Severity 0 is an error; hints about newer spec versions are not.
    expect(diagnostics.filter((d) => d.severity === 0).map((d) => d.message)).toEqual([]);
    expect(document?.allMessages().length).toBe(Object.keys(asyncApi.components.messages).length);
  }, 30_000);

  it("has a message for every frame type of both unions", () => {
    const types = (union: { options: readonly { shape: { type: { value: string } } }[] }) =>
      union.options.map((o) => o.shape.type.value);
    const expected = [
      ...types(ClientFrame).map((t) => `client.${t}`),
      ...types(ServerFrame).map((t) => `server.${t}`),
    ];
    expect(Object.keys(asyncApi.components.messages).sort()).toEqual(expected.sort());
  });
});

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
import { SCOPES } from "../../src/protocol/access.ts";
import {
  ClientFrame,
  MAX_CHANGES,
  MAX_EMOJI,
  MAX_TEXT,
  ServerFrame,
} from "../../src/protocol/schemas.ts";
import { STATUS_OF } from "../support/wire.ts";

type Json = Record<string, unknown>;
type Operation = {
  parameters?: Json[];
  responses: Json;
  requestBody?: Json;
  description?: string;
  security?: Json[];
};
const openApi = openApiDocument() as {
  info: { version: string };
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Json>; securitySchemes: Record<string, Json> };
};
const asyncApi = asyncApiDocument() as {
  info: { version: string };
  channels: { socket: { bindings: { ws: { headers: Json } } } };
  components: { messages: Record<string, Json> };
};

/** A schema's `properties` (a component's, or an inline one's). */
const props = (schema: unknown): Record<string, Json> =>
  ((schema as Json | undefined)?.properties ?? {}) as Record<string, Json>;

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

  it("describes numeric query parameters as integers with their bounds and defaults, true/false ones as booleans", () => {
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
    expect(timeline.find((p) => p.name === "exact")).toMatchObject({
      required: false,
      schema: { type: "boolean", default: true },
    });
  });
});

describe("the documents' socket access (a token without the URL)", () => {
  it("lets the upgrade carry the token as a bearer header, a subprotocol or ?token=, and other routes as a header", () => {
    const { securitySchemes } = openApi.components;
    expect(securitySchemes.subprotocolToken).toMatchObject({
      type: "apiKey",
      in: "header",
      name: "Sec-WebSocket-Protocol",
    });
    expect(securitySchemes.subprotocolToken?.description).toContain(
      '["scrollback", "bearer." + jwt]',
    );
    expect(securitySchemes.queryToken).toMatchObject({
      type: "apiKey",
      in: "query",
      name: "token",
    });
    const upgrade = openApi.paths["/v1/channels/{ch}/ws"]?.get;
    expect(upgrade?.security).toEqual([
      { bearer: [] },
      { subprotocolToken: [] },
      { queryToken: [] },
    ]);
    expect(upgrade?.responses["101"]).toMatchObject({
      headers: { "Sec-WebSocket-Protocol": { schema: { type: "string", const: "scrollback" } } },
    });
    expect(openApi.paths["/v1/channels/{ch}/messages"]?.get?.security).toEqual([{ bearer: [] }]);
  });

  it("names the subprotocols in the AsyncAPI handshake", () => {
    const { headers } = asyncApi.channels.socket.bindings.ws;
    expect(headers).toMatchObject({ type: "object" });
    expect(props(headers)["Sec-WebSocket-Protocol"]?.description).toMatch(
      /^`scrollback, bearer\.<jwt>`.*answers `scrollback`/,
    );
  });
});

describe("OpenAPI document, protocol 1.2", () => {
  it("is version 1.2, and names the moderate scope between write and admin", () => {
    expect(openApi.info.version).toBe("1.2");
    expect(SCOPES).toEqual(["read", "write", "moderate", "admin"]);
    expect(openApi.components.securitySchemes.bearer?.description).toContain(
      "read < write < moderate < admin",
    );
  });

  it("documents POST /changes: its body and answer, their limits, and who may do what", () => {
    const op = openApi.paths["/v1/channels/{ch}/changes"]?.post;
    expect(op?.requestBody).toMatchObject({
      content: { "application/json": { schema: { $ref: "#/components/schemas/ChangesBody" } } },
    });
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(
      ["200", "400", "401", "403", "413", "500"].sort(),
    );
    expect(op?.description).toMatch(/`write`.*`moderate`/s);
    const { schemas } = openApi.components;
    expect(props(schemas.ChangesReply)).toMatchObject({
      results: { type: "array" },
      total: { type: "number" },
      seq: { type: "number" },
    });
    const body = schemas.ChangesBody as Json;
    expect(body.required).toEqual(["changes"]);
    const changes = props(body).changes as Json;
    expect(changes).toMatchObject({ minItems: 1, maxItems: MAX_CHANGES });
    // One schema per kind; the limits are the protocol's, not restated here.
    const kinds = ((changes.items as Json).oneOf ?? (changes.items as Json).anyOf) as Json[];
    const byKind = Object.fromEntries(kinds.map((k) => [String(props(k).kind?.const), props(k)]));
    expect(Object.keys(byKind).sort()).toEqual(["delete", "edit", "react"]);
    expect(Object.keys(byKind.react ?? {}).sort()).toEqual(["emoji", "id", "kind", "on", "ts"]);
    expect(Object.keys(byKind.edit ?? {}).sort()).toEqual(["id", "kind", "text", "ts"]);
    // Refinements have no JSON Schema: the description carries the length limits.
    expect(op?.description).toContain(`text 1–${MAX_TEXT.toLocaleString("en-US")} UTF-16`);
    expect(op?.description).toContain(`emoji 1–${MAX_EMOJI} code units`);
  });

  it("gives messages `edited` and `reactions`, with `mine` optional", () => {
    const message = props(openApi.components.schemas.Message);
    expect(message.edited).toMatchObject({ type: "number" });
    const reaction = (message.reactions as Json).items as Json;
    expect(reaction.required).toEqual(["emoji", "count"]);
    expect(props(reaction).mine).toMatchObject({ const: true });
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

  it("is version 1.2, and says what every frame is for", () => {
    expect(asyncApi.info.version).toBe("1.2");
    for (const [id, message] of Object.entries(asyncApi.components.messages)) {
      expect(message.description, id).toMatch(/\w{3}/);
    }
  });

  it("describes 1.2's frames with their fields", () => {
    const payload = (id: string) => asyncApi.components.messages[id]?.payload as Json;
    const required = (id: string) => (payload(id).required as string[]).sort();
    expect(required("client.change")).toEqual(["changes", "type"]);
    expect(required("server.changed")).toEqual(["results", "seq", "total", "type"]);
    expect(required("server.remove")).toEqual(["ids", "seq", "total", "type"]);
    expect(required("server.update")).toEqual(["messages", "seq", "type"]);
    expect(required("server.resumed")).toEqual(expect.arrayContaining(["removed", "updated"]));
    const result = (props(payload("server.changed")).results as Json).items as Json;
    expect(props(result).outcome).toMatchObject({
      enum: ["applied", "pending", "stale", "deleted"],
    });
    const sent = (props(payload("server.sent")).results as Json).items as Json;
    expect(props(sent).deleted).toMatchObject({ const: true });
    expect(sent.required).not.toContain("deleted");
  });
});

/**
 * Checking real answers and frames against the served OpenAPI and AsyncAPI
 * documents, for the api-docs tests (1.1's and 1.2's). The validator is
 * @cfworker/json-schema, which runs inside workerd (no code generation);
 * `$ref`s resolve inside the document they come from.
 */
import { Validator } from "@cfworker/json-schema";
import { expect } from "vitest";
import { api, post } from "./net.ts";

export type Json = Record<string, unknown>;
type Operation = {
  responses: Record<string, { content?: { "application/json": { schema: Json } } }>;
};
export interface OpenApi {
  paths: Record<string, Record<string, Operation>>;
  components: Json;
}
interface AsyncApi {
  components: { messages: Record<string, { payload: Json }> };
}

/** Route templates as the documents name them. */
export const CH = "/v1/channels/{ch}";

export function expectValid(
  schema: Json,
  value: unknown,
  draft: "2020-12" | "7",
  what: string,
): void {
  const result = new Validator(schema, draft, false).validate(value);
  expect(result.errors, `${what}: ${JSON.stringify(value).slice(0, 300)}`).toEqual([]);
}

/** The documents as the worker serves them. */
export class ServedDocs {
  readonly openApi: OpenApi;
  readonly asyncApi: AsyncApi;

  private constructor(openApi: OpenApi, asyncApi: AsyncApi) {
    this.openApi = openApi;
    this.asyncApi = asyncApi;
  }

  static async load(): Promise<ServedDocs> {
    const openApi = (await (await api("/v1/openapi.json")).json()) as OpenApi;
    const asyncApi = (await (await api("/v1/asyncapi.json")).json()) as AsyncApi;
    return new ServedDocs(openApi, asyncApi);
  }

  /** The document's schema for this answer. */
  responseSchema(method: string, path: string, status: number): Json {
    const op = this.openApi.paths[path]?.[method.toLowerCase()];
    const schema = op?.responses[String(status)]?.content?.["application/json"].schema;
    if (!schema) throw new Error(`no ${status} answer documented for ${method} ${path}`);
    return { ...schema, components: this.openApi.components };
  }

  /** The payload schema of an AsyncAPI message, e.g. `server.remove`. */
  payload(id: string): Json {
    const message = this.asyncApi.components.messages[id];
    if (!message) throw new Error(`no message ${id} in the document`);
    return message.payload;
  }

  /** Checks an answer against the document's schema for its status. */
  expectAnswer(method: string, template: string, status: number, body: unknown): void {
    expectValid(this.responseSchema(method, template, status), body, "2020-12", template);
  }

  /** Checks frames against their messages: `side` is who sent them. */
  expectFrames(side: "client" | "server", frames: readonly object[]): void {
    for (const frame of frames) {
      const type = String((frame as { type?: unknown }).type);
      expectValid(this.payload(`${side}.${type}`), frame, "7", `${side} ${type}`);
    }
  }

  /**
   * Calls the worker, checks its answer against the document's schema for
   * its status, and returns the status and the body. A POST's `body` is
   * sent as JSON; any other call takes `init` as it is.
   */
  async call(
    method: string,
    template: string,
    channel: string,
    search = "",
    init: RequestInit & { json?: unknown } = {},
  ): Promise<{ status: number; body: unknown }> {
    const path = template.replace("{ch}", channel);
    const { json, ...rest } = init;
    const res = await (json === undefined
      ? api(`${path}${search}`, { method, ...rest })
      : post(`${path}${search}`, json));
    const body = await res.json();
    this.expectAnswer(method, template, res.status, body);
    return { status: res.status, body };
  }

  /** {@link call}, for the status alone. */
  async check(
    method: string,
    template: string,
    channel: string,
    search = "",
    init: RequestInit & { json?: unknown } = {},
  ): Promise<number> {
    return (await this.call(method, template, channel, search, init)).status;
  }
}

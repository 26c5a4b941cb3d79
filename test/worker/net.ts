/**
 * The worker project's way to the server: the worker's own fetch through the
 * runtime's loopback, HTTP helpers, sockets for the kit's client, the
 * harness's transport, and handles on the Durable Object itself.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Channel, Outcome } from "../../src/channel/channel.ts";
import app from "../../src/worker.ts";
import { type Answer, Harness, type Transport } from "../support/harness.ts";
import { walkMessages } from "../support/http.ts";
import { Client } from "../support/socket.ts";
import {
  type Change,
  type Code,
  type NewMessage,
  type PageBody,
  STATUS_OF,
  type Stats,
} from "../support/wire.ts";
import { hs256 } from "./jwt.ts";

/** The worker under test (the plugin's loopback to src/worker.ts's default export). */
export const worker = (exports as unknown as { default: Fetcher }).default;

/** Calls the worker: `path` starts with `/`. */
export function api(path: string, init?: RequestInit): Promise<Response> {
  return worker.fetch(new Request(`http://scrollback.test${path}`, init));
}

/** A JSON POST. */
export function post(path: string, body: unknown): Promise<Response> {
  return api(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** POSTs a batch over HTTP and returns the status and the parsed body. */
export async function postMessages(
  channel: string,
  messages: readonly NewMessage[],
): Promise<{ status: number; body: unknown }> {
  const res = await post(`/v1/channels/${channel}/messages`, { messages });
  return { status: res.status, body: await res.json() };
}

/** GET /v1/channels/{ch}. */
export async function stats(channel: string): Promise<Stats> {
  const res = await api(`/v1/channels/${channel}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Stats;
}

/** Every stored message in key order, paged over HTTP. */
export function allMessages(channel: string) {
  return walkMessages(async (query) => {
    const res = await api(`/v1/channels/${channel}/messages?${query}`);
    expect(res.status).toBe(200);
    return (await res.json()) as PageBody;
  });
}

/** The kit's client on the socket an upgrade answered (fails unless it is a 101). */
export async function clientOf(res: Response, channel: string, user: string): Promise<Client> {
  if (res.status !== 101) expect.unreachable(`upgrade refused: ${res.status} ${await res.text()}`);
  if (!res.webSocket) throw new Error("the upgrade answered no WebSocket");
  return new Client(channel, user, res.webSocket);
}

/** Opens a socket as `user` on `channel` (no hello awaited). */
export async function openSocket(channel: string, user: string): Promise<Client> {
  const res = await api(`/v1/channels/${channel}/ws?user=${user}`, {
    headers: { Upgrade: "websocket" },
  });
  return clientOf(res, channel, user);
}

/** Protocol 1.2: POSTs changes on the open worker, where the body names the user. */
export async function postChanges(
  channel: string,
  user: string,
  changes: readonly Change[],
): Promise<Answer> {
  const res = await post(`/v1/channels/${channel}/changes`, { user, changes });
  return { status: res.status, body: await res.json() };
}

/** The harness's way to the server in the Workers runtime: the open worker, no moderators. */
export const transport: Transport = {
  moderators: new Set(),
  open: (ch, user) => openSocket(ch, user),
  post: postMessages,
  postChanges,
};

/** A harness on `channel` in the Workers runtime. */
export const harness = (channel: string) => new Harness(channel, transport);

/** The secret of {@link securedTransport}'s worker. */
export const TEST_SECRET = "scrollback-test-secret";

/** The worker with AUTH_SECRET set, as a deployment runs it (the same Durable Object binding). */
export function securedFetch(path: string, init?: RequestInit): Promise<Response> {
  const request = new Request(`http://scrollback.test${path}`, init);
  return Promise.resolve(app.fetch(request, { ...env, AUTH_SECRET: TEST_SECRET }));
}

/**
 * The worker with AUTH_SECRET: every socket and request carries an HS256
 * token made by hand for its user, with scope `moderate` for `moderators`
 * and `write` for everyone else (HTTP inserts go as "poster"; their
 * messages name their authors).
 */
export function securedTransport(moderators: Iterable<string>): Transport {
  const mods = new Set(moderators);
  const bearer = async (user: string) => {
    const scope = mods.has(user) ? "moderate" : "write";
    return `Bearer ${await hs256({ sub: user, ch: "*", scope }, TEST_SECRET)}`;
  };
  const postAs = async (user: string, path: string, body: unknown): Promise<Answer> => {
    const res = await securedFetch(path, {
      method: "POST",
      headers: { Authorization: await bearer(user) },
      body: JSON.stringify(body),
    });
    return { status: res.status, body: await res.json() };
  };
  return {
    moderators: mods,
    open: async (ch, user) => {
      const res = await securedFetch(`/v1/channels/${ch}/ws`, {
        headers: { Upgrade: "websocket", Authorization: await bearer(user) },
      });
      return clientOf(res, ch, user);
    },
    post: (ch, messages) => postAs("poster", `/v1/channels/${ch}/messages`, { messages }),
    postChanges: (ch, user, changes) => postAs(user, `/v1/channels/${ch}/changes`, { changes }),
  };
}

/** A Durable Object stub for a channel. */
export function channelStub(channel: string): DurableObjectStub<Channel> {
  return env.CHANNEL.get(env.CHANNEL.idFromName(channel));
}

/** Asserts an error answer: its status and exactly `{ error: { code, message } }`. */
export async function expectError(res: Response, code: Code): Promise<void> {
  expect(res.headers.get("content-type")).toMatch(/^application\/json/);
  const body = await res.json();
  expect({ status: res.status, body }).toStrictEqual({
    status: STATUS_OF[code],
    body: { error: { code, message: expect.any(String) } },
  });
  expect((body as { error: { message: string } }).error.message).not.toBe("");
}

/** The `rows;dur=<n>` figure of a Server-Timing header, or undefined when absent. */
export function rowsOf(res: Response): number | undefined {
  const header = res.headers.get("Server-Timing") ?? "";
  const match = /(?:^|,)\s*rows;dur=(\d+)(?:;|,|$)/.exec(header);
  return match ? Number(match[1]) : undefined;
}

/** The value of a successful outcome (fails the test otherwise). */
export function okValue<T>(outcome: Outcome<T>): T {
  if (!outcome.ok) expect.unreachable(`expected ok, got ${JSON.stringify(outcome.error)}`);
  return outcome.value;
}

const MARK = Symbol.for("scrollback test instance mark");

/** Tags the running object instance, to tell afterwards whether an eviction replaced it. */
export async function markInstance(stub: DurableObjectStub): Promise<void> {
  await runInDurableObject(stub, (instance: object) => {
    Reflect.set(instance, MARK, true);
  });
}

/** True while the instance tagged by {@link markInstance} is still the running one. */
export async function isMarked(stub: DurableObjectStub): Promise<boolean> {
  return runInDurableObject(stub, (instance: object) => Reflect.get(instance, MARK) === true);
}

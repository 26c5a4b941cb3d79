/**
 * The worker project's way to the server: the worker's own fetch through the
 * runtime's loopback, HTTP helpers, sockets for the kit's client, the
 * harness's transport, and handles on the Durable Object itself.
 */
import { runInDurableObject } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { expect } from "vitest";
import type { Channel, Outcome } from "../../src/channel/channel.ts";
import { Harness, type Transport } from "../support/harness.ts";
import { walkMessages } from "../support/http.ts";
import { Client } from "../support/socket.ts";
import {
  type Code,
  type NewMessage,
  type PageBody,
  STATUS_OF,
  type Stats,
} from "../support/wire.ts";

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

/** The harness's way to the server in the Workers runtime. */
export const transport: Transport = {
  open: (ch, user) => openSocket(ch, user),
  post: postMessages,
};

/** A harness on `channel` in the Workers runtime. */
export const harness = (channel: string) => new Harness(channel, transport);

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

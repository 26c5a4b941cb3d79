/**
 * The HTTP half of the client library against a fake fetch: the requests it
 * makes (method, path, query, headers, body), the answers it returns, and
 * its errors (the protocol's code and status, timeout, abort, network).
 */
import { describe, expect, it } from "vitest";
import { ScrollbackError } from "../../src/client/errors.ts";
import { ScrollbackHttp } from "../../src/client/http.ts";
import { DEFAULT_SIMULATOR, ZERO_COUNTERS } from "../support/simulator.ts";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: unknown;
}

// `seq` is protocol 1.1's watermark: a 1.0 schema drops it, a 1.1 schema requires it.
const PAGE = { messages: [], start: 0, total: 0, hasOlder: false, hasNewer: false, seq: 0 };
const SIM = { running: false, settings: DEFAULT_SIMULATOR, counters: ZERO_COUNTERS };

/** A client whose fetch records each request and answers `status` with `body`. */
function fake(status: number, body: unknown, token?: string, user?: string) {
  const seen: Seen[] = [];
  const fetch = (async (input: URL | RequestInfo, init?: RequestInit) => {
    seen.push({
      method: init?.method ?? "GET",
      url: String(input),
      headers: (init?.headers ?? {}) as Record<string, string>,
      body: init?.body === undefined ? undefined : JSON.parse(String(init.body)),
    });
    return new Response(JSON.stringify(body), { status });
  }) as typeof globalThis.fetch;
  const http = new ScrollbackHttp({ url: "http://host:1", channel: "c.1", token, user, fetch });
  return { http, seen };
}

describe("ScrollbackHttp", () => {
  it("calls each route with its method, path, query and body", async () => {
    const cases: [(h: ScrollbackHttp) => Promise<unknown>, unknown, Partial<Seen>][] = [
      [
        (h) => h.stats(),
        {
          channel: "c.1",
          total: 0,
          lateTotal: 0,
          oldest: null,
          newest: null,
          seq: 0,
          sockets: 0,
          relays: 0,
        },
        { method: "GET", url: "http://host:1/v1/channels/c.1" },
      ],
      [(h) => h.page(), PAGE, { url: "http://host:1/v1/channels/c.1/messages" }],
      [
        (h) => h.page({ anchor: { position: -3 }, before: 0, after: 9 }),
        PAGE,
        { url: "http://host:1/v1/channels/c.1/messages?anchor=pos%3A-3&before=0&after=9" },
      ],
      [
        (h) => h.page({ anchor: { id: "a b" } }),
        PAGE,
        { url: "http://host:1/v1/channels/c.1/messages?anchor=id%3Aa+b" },
      ],
      [
        (h) => h.insert([{ text: "hi" }]),
        { inserted: 1, duplicates: 0, total: 1 },
        { method: "POST", body: { messages: [{ text: "hi" }] } },
      ],
      [
        (h) => h.timeline(),
        { total: 0, points: [] },
        { url: "http://host:1/v1/channels/c.1/timeline" },
      ],
      [
        (h) => h.timeline(7),
        { total: 0, points: [] },
        { url: "http://host:1/v1/channels/c.1/timeline?points=7" },
      ],
      [
        (h) => h.timeline({ points: 200, exact: false }),
        { total: 0, points: [] },
        { url: "http://host:1/v1/channels/c.1/timeline?points=200&exact=false" },
      ],
      [
        (h) => h.timeline({ exact: true }),
        { total: 0, points: [] },
        { url: "http://host:1/v1/channels/c.1/timeline?exact=true" },
      ],
      [
        (h) => h.simulator(),
        SIM,
        { method: "GET", url: "http://host:1/v1/channels/c.1/simulator" },
      ],
      [(h) => h.startSimulator({ rate: 2 }), SIM, { method: "PUT", body: { rate: 2 } }],
      [(h) => h.stopSimulator(), SIM, { method: "DELETE", body: undefined }],
    ];
    for (const [call, answer, expected] of cases) {
      const { http, seen } = fake(200, answer);
      // What the client returns is what the server said (fields it does not know dropped).
      expect(answer).toMatchObject((await call(http)) as object);
      expect(seen).toHaveLength(1);
      expect(seen[0]).toMatchObject(expected);
    }
  });

  it("posts changes, as the options' user on an open worker, and answers their results", async () => {
    const changes = [
      { kind: "edit" as const, id: "m1", text: "hi!", ts: 5 },
      { kind: "delete" as const, id: "m2" },
      { kind: "react" as const, id: "m3", emoji: "👍", on: true, ts: 6 },
    ];
    const answer = {
      results: [
        { id: "m1", outcome: "applied", seq: 8 },
        { id: "m2", outcome: "deleted" },
        { id: "m3", outcome: "pending", seq: 9 },
      ],
      total: 41,
      seq: 9,
    };
    const open = fake(200, answer, undefined, "alice");
    expect(await open.http.change(changes)).toEqual(answer);
    expect(open.seen).toEqual([
      {
        method: "POST",
        url: "http://host:1/v1/channels/c.1/changes",
        headers: { "Content-Type": "application/json" },
        body: { user: "alice", changes },
      },
    ]);
    // With a token the server takes the token's subject: no user in the body.
    const secured = fake(200, answer, "jwt.x.y");
    await secured.http.change(changes);
    expect(secured.seen[0]?.body).toEqual({ changes });
    const refused = fake(403, {
      error: { code: "forbidden", message: "changes[0]: only its author may edit a message" },
    });
    await expect(refused.http.change(changes)).rejects.toMatchObject({
      code: "forbidden",
      status: 403,
    });
  });

  it("asks for first_unread as the options' user on an open worker, and only then names one", async () => {
    const body = { ...PAGE, total: 9, firstUnread: 4 };
    const open = fake(200, body, undefined, "alice");
    expect(await open.http.page({ anchor: "first_unread", after: 0 })).toEqual(body);
    await open.http.page({ anchor: "newest" });
    expect(open.seen.map((r) => r.url)).toEqual([
      "http://host:1/v1/channels/c.1/messages?anchor=first_unread&after=0&user=alice",
      "http://host:1/v1/channels/c.1/messages?anchor=newest",
    ]);
    // With a token the server takes the token's subject.
    const secured = fake(200, PAGE, "jwt.x.y");
    await secured.http.page({ anchor: "first_unread" });
    expect(secured.seen[0]?.url).toBe("http://host:1/v1/channels/c.1/messages?anchor=first_unread");
  });

  it("sends the token as a bearer header", async () => {
    const { http, seen } = fake(200, PAGE, "jwt.x.y");
    await http.page();
    expect(seen[0]?.headers).toEqual({ Authorization: "Bearer jwt.x.y" });
  });

  it("rejects with the protocol's code and the status of an error body", async () => {
    const { http } = fake(404, { error: { code: "not_found", message: "no message with id x" } });
    const err = await http.page({ anchor: { id: "x" } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ScrollbackError);
    expect(err).toMatchObject({ code: "not_found", status: 404, message: "no message with id x" });
  });

  it("takes a code from the status when the body is not the protocol's (a proxy answered)", async () => {
    const { http } = fake(429, "slow down");
    await expect(http.stats()).rejects.toMatchObject({ code: "rate_limited", status: 429 });
  });

  it("rejects an answer that does not fit its schema", async () => {
    const { http } = fake(200, { total: "many" });
    await expect(http.timeline()).rejects.toMatchObject({ code: "internal" });
  });

  it("times out, honours an abort, and reports a network failure as disconnected", async () => {
    const hanging = ((_: unknown, init?: RequestInit) =>
      new Promise((_resolve, reject) => {
        init?.signal?.addEventListener("abort", () => reject(init.signal?.reason));
      })) as typeof fetch;
    const http = new ScrollbackHttp({ url: "http://h", channel: "c", fetch: hanging });
    await expect(http.stats({ timeoutMs: 20 })).rejects.toMatchObject({ code: "timeout" });
    const controller = new AbortController();
    const call = http.stats({ signal: controller.signal });
    controller.abort(new Error("user left"));
    await expect(call).rejects.toThrow("user left");
    const down = new ScrollbackHttp({
      url: "http://h",
      channel: "c",
      fetch: (() => Promise.reject(new TypeError("fetch failed"))) as typeof fetch,
    });
    await expect(down.stats()).rejects.toMatchObject({ code: "disconnected" });
  });
});

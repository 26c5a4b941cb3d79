import { describe, expect, it } from "vitest";
import { BenchMeter } from "../../src/channel/bench-meter.ts";
import { sendRaw } from "../../src/channel/sockets.ts";

/** A socket that counts what it is sent; `closing` throws as a closing socket does. */
function fakeSocket(closing = false): { ws: WebSocket; got: string[] } {
  const got: string[] = [];
  const ws = {
    send(text: string) {
      if (closing) throw new Error("closing");
      got.push(text);
    },
  } as unknown as WebSocket;
  return { ws, got };
}

describe("BenchMeter", () => {
  it("counts the sends made inside a push or a relay operation, and only those", async () => {
    const meter = new BenchMeter();
    const a = fakeSocket();
    const gone = fakeSocket(true);
    sendRaw(a.ws, "before"); // outside any metered stretch
    meter.group();
    meter.push(() => {
      for (let i = 0; i < 7; i++) sendRaw(a.ws, `push ${i}`);
      sendRaw(gone.ws, "to a closing socket"); // still a send the object made
    });
    await meter.relayOp(async () => {
      sendRaw(a.ws, "reply");
      return 1;
    });
    meter.poked(3);
    const stats = meter.stats();
    expect(stats).toMatchObject({
      groups: 1,
      pushes: 1,
      pushSends: 8,
      relayOps: 1,
      relayOpSends: 1,
      pokes: 3,
    });
    expect(stats.pushMs).toBeGreaterThanOrEqual(0);
    expect(stats.relayOpMs).toBeGreaterThanOrEqual(0);
    expect(a.got).toHaveLength(9);
  });

  it("counts a push that throws, and passes its error on", () => {
    const meter = new BenchMeter();
    const a = fakeSocket();
    expect(() =>
      meter.push(() => {
        sendRaw(a.ws, "one");
        throw new Error("fan-out failed");
      }),
    ).toThrow("fan-out failed");
    expect(meter.stats()).toMatchObject({ pushes: 1, pushSends: 1 });
  });
});

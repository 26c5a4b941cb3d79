import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("smoke", () => {
  it("inserts and pages", async () => {
    const stub = env.CHANNEL.get(env.CHANNEL.idFromName("smoke"));
    const r = await stub.insert(
      "smoke",
      [
        { text: "hi", ts: 5, id: "a" },
        { text: "yo", ts: 3, id: "b" },
      ],
      "al",
    );
    expect(r.ok).toBe(true);
    const p = await stub.page("smoke", { anchor: "newest", before: 5, after: 5 });
    console.log(JSON.stringify(p));
  });
});

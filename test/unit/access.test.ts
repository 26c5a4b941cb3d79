import { describe, expect, it } from "vitest";
import { allows, Claims, SCOPES, type Scope } from "../../src/protocol/access.ts";

describe("allows", () => {
  it("grants each scope what it includes: read < write < moderate < admin", () => {
    const level: Record<Scope, number> = { read: 0, write: 1, moderate: 2, admin: 3 };
    for (const granted of SCOPES) {
      for (const needed of SCOPES) {
        expect(allows(granted, needed), `${granted} for ${needed}`).toBe(
          level[granted] >= level[needed],
        );
      }
    }
  });

  it("lets read only read and admin do everything", () => {
    expect(allows("read", "read")).toBe(true);
    expect(allows("read", "write")).toBe(false);
    expect(allows("read", "admin")).toBe(false);
    expect(allows("write", "admin")).toBe(false);
    expect(allows("admin", "write")).toBe(true);
  });
});

describe("Claims", () => {
  it("reads sub, ch (a channel or *), scope and an optional exp", () => {
    const claims = { sub: "alice", ch: "general", scope: "write", exp: 1_795_480_000 };
    expect(Claims.parse(claims)).toStrictEqual(claims);
    expect(Claims.parse({ sub: "bob", ch: "*", scope: "read" })).toStrictEqual({
      sub: "bob",
      ch: "*",
      scope: "read",
    });
  });

  it("rejects a missing or malformed claim", () => {
    for (const claims of [
      { ch: "general", scope: "read" },
      { sub: "alice", scope: "read" },
      { sub: "alice", ch: "general" },
      { sub: "alice", ch: "general", scope: "owner" },
      { sub: "alice", ch: "gen/eral", scope: "read" },
      { sub: "alice", ch: "**", scope: "read" },
      { sub: "", ch: "general", scope: "read" },
      { sub: "alice", ch: "general", scope: "read", exp: "soon" },
    ]) {
      expect(Claims.safeParse(claims).success, JSON.stringify(claims)).toBe(false);
    }
  });
});

import { describe, expect, it } from "vitest";
import { GroupWait, MAX_GROUP_WAIT_MS } from "../../src/core/group-wait.ts";

describe("GroupWait", () => {
  it("waits for nothing before any group, or after a group of one writer", () => {
    const wait = new GroupWait<string>();
    expect(wait.delay(new Set(["a"]))).toBe(0);
    wait.flushed(new Set(["a"]));
    expect(wait.delay(new Set(["b"]))).toBe(0);
  });

  it("waits, at most the bound, until the last group's writers are back", () => {
    const wait = new GroupWait<string>();
    wait.flushed(new Set(["a", "b", "c"]));
    expect(wait.delay(new Set(["a"]))).toBe(MAX_GROUP_WAIT_MS);
    expect(wait.delay(new Set(["a", "b"]))).toBe(MAX_GROUP_WAIT_MS);
    expect(wait.delay(new Set(["c", "b", "a"]))).toBe(0);
    expect(wait.delay(new Set(["a", "b", "c", "d"]))).toBe(0);
    expect(MAX_GROUP_WAIT_MS).toBeLessThanOrEqual(5);
  });

  it("expects only the writers of the latest group", () => {
    const wait = new GroupWait<string>();
    wait.flushed(new Set(["a", "b"]));
    wait.flushed(new Set(["c", "d"]));
    expect(wait.delay(new Set(["c", "d"]))).toBe(0);
    expect(wait.delay(new Set(["a", "b"]))).toBe(MAX_GROUP_WAIT_MS);
    wait.flushed(new Set());
    expect(wait.delay(new Set())).toBe(0);
  });
});

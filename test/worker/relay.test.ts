import { afterEach, expect, it } from "vitest";
import { series } from "../support/data.ts";
import { closeAll } from "../support/socket.ts";
import { harness, stats } from "./net.ts";

afterEach(closeAll);

it("smoke", async () => {
  const h = harness("relay-smoke");
  await h.post(series(10));
  await h.connect("alice");
  await h.connect("bob");
  console.log(JSON.stringify(await stats("relay-smoke")));
  await h.post(series(3, 5_000_000));
  expect(true).toBe(true);
});

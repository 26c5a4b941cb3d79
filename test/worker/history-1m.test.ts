/**
 * A channel's history at 1,000,000 messages (seeded through the insert RPC in
 * batches of 10,000, about 15 s), against the independent model: exact pages
 * by every anchor, and rows read that do not grow with the channel, before
 * and after eviction.
 */
import { describe, expect } from "vitest";
import { historyCase } from "./history.case.ts";

describe("history at 1M", () => {
  historyCase({
    channel: "history-1m",
    count: 1_000_000,
    chunkSize: 10_000,
    seedBatch: 10_000,
    randomPages: 140,
    wakePages: 60,
    edgeSides: [
      [25, 25],
      [0, 0],
      [200, 200],
    ],
    timelinePoints: [2, 3, 1_000],
    checkData: (data, model) => {
      // The chunk of 10,000 lands well above the middle, so the page at 500,000 is after it.
      const lo = model.position[data.chunkFirst] as number;
      expect(model.total - lo).toBeGreaterThan(500_000);
    },
  });
});

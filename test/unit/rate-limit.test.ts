import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { TokenBucket } from "../../src/core/rate-limit.ts";

/**
 * The model counts thousandths of a token in integers, so it is exact. The
 * clock moves in steps of 125 ms, which keeps the implementation's
 * floating-point refills (k·rate/8) exact too: any disagreement is a real one.
 */
class ModelBucket {
  #milli: number;
  #at: number;
  readonly #rate: number;
  readonly #burst: number;

  constructor(rate: number, burst: number, now: number) {
    this.#rate = rate;
    this.#burst = burst;
    this.#milli = burst * 1000;
    this.#at = now;
  }

  take(now: number): boolean {
    this.#milli = Math.min(this.#burst * 1000, this.#milli + (now - this.#at) * this.#rate);
    this.#at = now;
    if (this.#milli < 1000) return false;
    this.#milli -= 1000;
    return true;
  }
}

describe("TokenBucket", () => {
  it("grants the burst at once, then nothing until a token accrues", () => {
    const bucket = new TokenBucket(200, 400, 1_000);
    const granted = Array.from({ length: 401 }, () => bucket.take(1_000));
    expect(granted.filter(Boolean).length).toBe(400);
    expect(granted.at(-1)).toBe(false);
    expect(bucket.take(1_004)).toBe(false); // 4 ms at 200/s: 0.8 of a token
    expect(bucket.take(1_005)).toBe(true); // 1 ms more: the token is whole
    expect(bucket.take(1_005)).toBe(false);
  });

  it("refills at rate tokens a second, never past the burst", () => {
    const bucket = new TokenBucket(200, 400, 0);
    for (let i = 0; i < 400; i++) bucket.take(0);
    // One second refills 200.
    let granted = 0;
    while (bucket.take(1_000)) granted++;
    expect(granted).toBe(200);
    // An hour idle refills only the burst.
    granted = 0;
    while (bucket.take(3_601_000)) granted++;
    expect(granted).toBe(400);
  });

  it("lets through burst + rate·t over t of constant hammering", () => {
    const bucket = new TokenBucket(200, 400, 0);
    let granted = 0;
    // A frame every millisecond for 10 s: 10,000 tries.
    for (let now = 0; now < 10_000; now++) if (bucket.take(now)) granted++;
    // 400 at once, then one per 5 ms for the remaining 9.999 s (the last at 9,995 ms).
    expect(granted).toBe(400 + Math.floor((9_999 * 200) / 1000));
  });

  it("answers like an exact token-counting model under random traffic", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1, max: 50 }),
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.array(fc.tuple(fc.integer({ min: 0, max: 24 }), fc.integer({ min: 1, max: 60 })), {
          maxLength: 40,
        }),
        (rate, burst, start, bursts) => {
          const bucket = new TokenBucket(rate, burst, start);
          const model = new ModelBucket(rate, burst, start);
          let now = start;
          for (const [steps, tries] of bursts) {
            now += steps * 125;
            for (let i = 0; i < tries; i++) expect(bucket.take(now)).toBe(model.take(now));
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

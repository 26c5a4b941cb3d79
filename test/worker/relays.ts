/**
 * Handles on a channel's relay objects (issue 18) for the relay tests: the
 * stub of relay k (the worker names it `${channel}/${k}`), how many sockets
 * an object holds, and a wait for what its relays last told the channel.
 */
import { evictDurableObject, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { Relay } from "../../src/relay/relay.ts";
import type { Audience } from "../support/wire.ts";
import { channelStub, stats } from "./net.ts";

/** Relay `k` of `channel`, as the worker names it. */
export function relayStub(channel: string, k = 0): DurableObjectStub<Relay> {
  return env.RELAY.get(env.RELAY.idFromName(`${channel}/${k}`));
}

/** The sockets an object holds now (its hibernatable sockets, as the runtime lists them). */
export function heldBy(stub: DurableObjectStub): Promise<number> {
  return runInDurableObject(stub, (_instance, state) => state.getWebSockets().length);
}

/**
 * Waits until the channel has heard from relays `relays` about their sockets:
 * a relay counts a socket that opens or closes in an operation it queues at
 * once, and a poke joins that operation (or asks anew after it).
 */
export async function settled(channel: string, relays: readonly number[] = [0]): Promise<void> {
  for (const k of relays) await relayStub(channel, k).poke();
}

/**
 * The audience stats report once the relays have reported, and where the
 * sockets are: `own` on the channel object, `onRelays[k]` on relay k.
 */
export async function expectAudience(
  channel: string,
  own: number,
  onRelays: readonly number[],
): Promise<void> {
  const relays = onRelays.map((_, k) => k);
  await settled(channel, relays);
  const audience: Audience = {
    sockets: own + onRelays.reduce((a, b) => a + b, 0),
    relays: onRelays.filter((n) => n > 0).length,
  };
  expect(await stats(channel), "stats").toMatchObject(audience);
  expect(await heldBy(channelStub(channel)), "sockets on the channel object").toBe(own);
  for (const k of relays) {
    expect(await heldBy(relayStub(channel, k)), `sockets on relay ${k}`).toBe(onRelays[k]);
  }
}

/**
 * Evicts every object that holds the channel's sockets: the channel object,
 * and in a project that puts every socket on a relay (RELAY_SOCKETS=0) its
 * relay 0 too (woken first by a nudge: only a running object is evicted).
 */
export async function evictHolders(
  channel: string,
  webSockets: "close" | "hibernate",
): Promise<void> {
  await evictDurableObject(channelStub(channel), { webSockets });
  if (env.RELAY_SOCKETS !== "0") return;
  const relay = relayStub(channel);
  await relay.poke();
  await evictDurableObject(relay, { webSockets });
}

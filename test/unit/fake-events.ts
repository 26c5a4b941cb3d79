/** The event half of a fake ScrollbackClient, for the ChannelWindow tests: `on` as the client has it, `emit` for the test. */
import type { ClientEvents } from "../../src/client/types.ts";

export function fakeEvents() {
  const listeners = new Map<string, ((value: unknown) => void)[]>();
  return {
    on(event: string, listener: (value: unknown) => void): () => void {
      listeners.set(event, [...(listeners.get(event) ?? []), listener]);
      return () => {};
    },
    emit<E extends keyof ClientEvents>(event: E, value: ClientEvents[E]): void {
      for (const listener of listeners.get(event) ?? []) listener(value);
    },
  };
}

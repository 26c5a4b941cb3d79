/**
 * Groups formed on purpose: holds a channel object's commits (its
 * `storage.sync()`, which the writer awaits before it starts the next group)
 * until the test releases them, so every write that arrives meanwhile joins
 * one group, whatever the timing. Writes are counted as they reach the
 * writer, so the test releases once all of them are queued. A socket's
 * write waits for its previous one to be stored, so only one write a socket
 * can join a held group.
 */
import { runInDurableObject } from "cloudflare:test";
import { Writer } from "../../src/channel/writer.ts";
import { channelStub } from "./net.ts";

export interface Gate {
  /** Resolves once `n` writes have reached the writer since the gate was made. */
  arrived(n: number): Promise<void>;
  /** Lets the held commit (and every later one) through. */
  release(): void;
}

/**
 * Holds the commits of `channel`'s object from now on. The next write is
 * stored at once and pushed as usual; the writes after it wait for its commit
 * and are stored together on release.
 */
export async function holdCommits(channel: string): Promise<Gate> {
  let writes = 0;
  const write = Writer.prototype.write;
  Writer.prototype.write = function counted(this: Writer, ...args: Parameters<typeof write>) {
    writes++;
    return write.apply(this, args);
  } as typeof write;
  let open = (): void => {};
  const gate = new Promise<void>((resolve) => {
    open = resolve;
  });
  let restore = (): void => {};
  await runInDurableObject(channelStub(channel), (_instance, state) => {
    const { storage } = state;
    const own = Object.getOwnPropertyDescriptor(storage, "sync");
    const sync = storage.sync.bind(storage);
    Object.defineProperty(storage, "sync", {
      configurable: true,
      value: async () => {
        await gate;
        return sync();
      },
    });
    restore = () => {
      if (own) Object.defineProperty(storage, "sync", own);
      else Reflect.deleteProperty(storage, "sync");
    };
  });
  return {
    async arrived(n) {
      // A condition, not a duration: each turn lets the runtime deliver more frames.
      while (writes < n) await new Promise((resolve) => setTimeout(resolve, 1));
    },
    release() {
      Writer.prototype.write = write;
      // The commit held so far waits on the gate; later ones go straight through.
      restore();
      open();
    },
  };
}

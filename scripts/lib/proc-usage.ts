/**
 * CPU time, memory and open files of this process and the processes it
 * started (workerd under Miniflare), from /proc: what the bench's client and
 * server spent and hold. Linux only; elsewhere it reports nothing.
 */
import { readdirSync, readFileSync } from "node:fs";

export interface Usage {
  /** CPU seconds (user + system) of the client (this process) and of its descendants. */
  readonly clientCpuS: number;
  readonly serverCpuS: number;
  /** Resident memory, MiB. */
  readonly clientRssMiB: number;
  readonly serverRssMiB: number;
  /** Open file descriptors of the client, and of the server's process that holds the most. */
  readonly clientFiles: number;
  readonly serverFiles: number;
}

const TICKS = 100;

function stat(pid: number): { ppid: number; cpuS: number; rssMiB: number } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // After the command's closing parenthesis: state, ppid, … utime (14th), stime (15th), … rss (24th).
    const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
    const n = (i: number) => Number(fields[i - 3]);
    return { ppid: n(4), cpuS: (n(14) + n(15)) / TICKS, rssMiB: (n(24) * 4096) / 2 ** 20 };
  } catch {
    return undefined;
  }
}

function openFiles(pid: number): number {
  try {
    return readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return 0;
  }
}

/** This process's usage and its descendants' (undefined off Linux). */
export function usage(): Usage | undefined {
  const self = stat(process.pid);
  if (!self) return undefined;
  const all = new Map<number, NonNullable<ReturnType<typeof stat>>>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const s = stat(pid);
    if (s) all.set(pid, s);
  }
  const descendants = new Set<number>([process.pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [pid, s] of all) {
      if (!descendants.has(pid) && descendants.has(s.ppid)) {
        descendants.add(pid);
        grew = true;
      }
    }
  }
  descendants.delete(process.pid);
  let serverCpuS = 0;
  let serverRssMiB = 0;
  let serverFiles = 0;
  for (const pid of descendants) {
    serverCpuS += all.get(pid)?.cpuS ?? 0;
    serverRssMiB += all.get(pid)?.rssMiB ?? 0;
    serverFiles = Math.max(serverFiles, openFiles(pid));
  }
  return {
    clientCpuS: self.cpuS,
    serverCpuS,
    clientRssMiB: self.rssMiB,
    serverRssMiB,
    clientFiles: openFiles(process.pid),
    serverFiles,
  };
}

/**
 * The bench's results: each op's p50 / p99 and rows read, recorded as they
 * are measured, printed as a markdown table and written to a JSON report.
 * A run of some parts only (`--parts`) keeps the report's other rows, each
 * marked with the date it was measured, so the report stays whole and true.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import os from "node:os";
import { dirname } from "node:path";

/** What the channel object itself spent per stored group (BENCH_STATS; see bench-audience.ts). */
export interface ChannelWork {
  /** `ws.send` calls the channel object made per group (its own sockets' pushes). */
  readonly sends_per_group: number;
  /** Its push and relay-operation time per group, ms. */
  readonly ms_per_group: number;
  /** Relay operations it served per group, and their mean time, ms. */
  readonly relay_ops_per_group: number;
  readonly ms_per_relay_op: number;
}

export interface Result {
  readonly op: string;
  readonly size: number;
  readonly p50_ms: number;
  readonly p99_ms: number;
  readonly rows_read: number | null;
  readonly n: number;
  /** Throughput ops: operations a second. */
  readonly per_s?: number;
  readonly channel?: ChannelWork;
  /** CPU ms per group of the runtime (workerd) and of the client, both on this machine. */
  readonly server_cpu_ms?: number;
  readonly client_cpu_ms?: number;
  readonly note?: string;
  /** Only on rows kept from an earlier run: when they were measured. */
  readonly measured?: string;
}

/** What a result may carry besides its samples. */
export type Extra = Pick<Result, "per_s" | "channel" | "server_cpu_ms" | "client_cpu_ms">;

/** Records one op's samples (bench.ts and the bench's libraries). */
export type Recorder = (
  op: string,
  size: number,
  samples: number[],
  rows: number[] | null,
  note?: string,
  extra?: Extra,
) => void;

export interface Machine {
  readonly cpus: number;
  readonly cpu: string;
  readonly memory_gib: number;
  readonly node: string;
  readonly os: string;
  readonly date: string;
  /** 1, 5 and 15 minute load averages at the start and the end (the machine is shared). */
  readonly load_start: readonly number[];
  readonly load_end?: readonly number[];
}

export const round = (ms: number): number => Math.round(ms * 100) / 100;

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

export class Results {
  readonly #results: Result[] = [];
  readonly #machine: Machine = {
    cpus: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? "unknown",
    memory_gib: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()}`,
    date: new Date().toISOString(),
    load_start: os.loadavg().map(round),
  };

  readonly record: Recorder = (op, size, samples, rows, note, extra = {}) => {
    const sorted = [...samples].sort((a, b) => a - b);
    const rowsSorted = rows ? [...rows].sort((a, b) => a - b) : null;
    const result: Result = {
      op,
      size,
      p50_ms: round(quantile(sorted, 0.5)),
      p99_ms: round(quantile(sorted, 0.99)),
      rows_read: rowsSorted ? quantile(rowsSorted, 0.5) : null,
      n: samples.length,
      ...extra,
      ...(note ? { note } : {}),
    };
    this.#results.push(result);
    console.log(
      `  ${op.padEnd(16)} ${String(size).padStart(8)}  p50 ${result.p50_ms} ms  p99 ${result.p99_ms} ms` +
        (result.rows_read === null ? "" : `  rows ${result.rows_read}`) +
        (note ? `  (${note})` : ""),
    );
  };

  /**
   * Writes the report to `out`; with `keepOthers`, the rows of `out` whose op
   * this run did not measure stay, marked with their run's date.
   */
  write(out: string, keepOthers: boolean): void {
    const machine = { ...this.#machine, load_end: os.loadavg().map(round) };
    const ran = new Set(this.#results.map((r) => r.op));
    const kept = keepOthers && existsSync(out) ? earlier(out).filter((r) => !ran.has(r.op)) : [];
    mkdirSync(dirname(out), { recursive: true });
    const results = [...kept, ...this.#results];
    writeFileSync(out, `${JSON.stringify({ results, machine }, null, 2)}\n`);
    console.log(`\n${table(machine, this.#results)}\nWrote ${out}`);
  }
}

/** An earlier report's rows, each marked with when it was measured. */
function earlier(path: string): Result[] {
  const report = JSON.parse(readFileSync(path, "utf8")) as {
    results: Result[];
    machine?: { date?: string };
  };
  const date = report.machine?.date?.slice(0, 10) ?? "unknown";
  return report.results.map((r) => ({ ...r, measured: r.measured ?? date }));
}

function table(machine: Machine, results: readonly Result[]): string {
  const lines = [
    `Machine: ${machine.cpus} × ${machine.cpu}, Node ${machine.node}, ${machine.date.slice(0, 10)}, ` +
      `load ${machine.load_start.join(" ")} → ${machine.load_end?.join(" ")}`,
    "",
    "| op | size | p50 ms | p99 ms | rows read | note |",
    "| --- | ---: | ---: | ---: | ---: | --- |",
  ];
  for (const r of results) {
    lines.push(
      `| ${r.op} | ${r.size.toLocaleString("en")} | ${r.p50_ms} | ${r.p99_ms} | ${r.rows_read ?? "–"} | ${r.note ?? ""} |`,
    );
  }
  return lines.join("\n");
}

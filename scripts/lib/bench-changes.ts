/**
 * The bench's changes (protocol 1.2): edit and delete latency over HTTP with
 * the rows each reads (Server-Timing), then 10,000 deletes spread over the
 * channel (a tenth of it when smaller) and the rows a page reads after them.
 * Runs after the read benchmarks of a size, on the same channel.
 */
import type { ChangesReply, Message, PageBody } from "../../src/protocol/schemas.ts";
import type { Recorder } from "./bench-results.ts";
import type { Server } from "./server.ts";

/** Most deletes the bench makes in a channel. */
const DELETES = 10_000;

async function timedFetch(
  url: string,
  init?: RequestInit,
): Promise<{ ms: number; rows: number; body: unknown }> {
  const started = performance.now();
  const res = await fetch(url, init);
  const body = await res.json();
  const ms = performance.now() - started;
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  const rows = Number(res.headers.get("server-timing")?.match(/rows;dur=(\d+)/)?.[1] ?? Number.NaN);
  return { ms, rows, body };
}

/** Distinct messages spread over the channel: pages of 200 at random positions. */
async function sample(
  base: string,
  total: number,
  want: number,
  random: () => number,
): Promise<Message[]> {
  const found = new Map<string, Message>();
  for (let tries = 0; found.size < want && tries < want; tries++) {
    const at = Math.floor(random() * total);
    const { body } = await timedFetch(`${base}/messages?anchor=pos:${at}&before=0&after=199`);
    for (const m of (body as PageBody).messages) if (found.size < want) found.set(m.id, m);
  }
  return [...found.values()];
}

async function changes(base: string, user: string, list: unknown[]) {
  return timedFetch(`${base}/changes`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ user, changes: list }),
  });
}

export async function measureChanges(
  server: Server,
  size: number,
  samples: number,
  random: () => number,
  record: Recorder,
): Promise<void> {
  const base = `${server.url}/v1/channels/bench-${size}`;
  const deletes = Math.min(DELETES, Math.floor(size / 10));
  const victims = await sample(base, size, deletes + samples, random);
  const edits = victims.slice(0, samples);
  const editMs: number[] = [];
  const editRows: number[] = [];
  for (const m of edits) {
    const r = await changes(base, m.author, [
      { kind: "edit", id: m.id, text: `${m.text} (edited)`, ts: Date.now() },
    ]);
    editMs.push(r.ms);
    editRows.push(r.rows);
  }
  record("edit", size, editMs, editRows, "HTTP POST /changes, one edit");

  const doomed = victims.slice(samples);
  const deleteMs: number[] = [];
  const deleteRows: number[] = [];
  for (const m of doomed.slice(0, samples)) {
    const r = await changes(base, m.author, [{ kind: "delete", id: m.id }]);
    deleteMs.push(r.ms);
    deleteRows.push(r.rows);
  }
  record("delete", size, deleteMs, deleteRows, "HTTP POST /changes, one delete");
  // The rest, 1,000 a request, each by its author.
  const rest = doomed.slice(samples);
  for (let i = 0; i < rest.length; i += 1_000) {
    const byAuthor = new Map<string, unknown[]>();
    for (const m of rest.slice(i, i + 1_000)) {
      byAuthor.set(m.author, [...(byAuthor.get(m.author) ?? []), { kind: "delete", id: m.id }]);
    }
    for (const [author, list] of byAuthor) {
      const { body } = await changes(base, author, list);
      if ((body as ChangesReply).results.some((r) => r.outcome !== "applied")) {
        throw new Error("a bench delete was not applied");
      }
    }
  }
  const after = size - doomed.length;
  const pageMs: number[] = [];
  const pageRows: number[] = [];
  for (let i = 0; i < samples; i++) {
    const at = Math.floor(random() * after);
    const r = await timedFetch(`${base}/messages?anchor=pos:${at}&before=25&after=24`);
    pageMs.push(r.ms);
    pageRows.push(r.rows);
  }
  record(
    "page_after_deletes",
    size,
    pageMs,
    pageRows,
    `HTTP page by position after ${doomed.length.toLocaleString("en")} deletes`,
  );
}

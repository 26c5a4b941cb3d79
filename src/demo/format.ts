/** The demo page's pure presentation helpers: rows as HTML, times, scrollbar labels. */
import type { Message } from "../client/index.ts";

export function formatTime(ts: number): string {
  return new Date(ts).toLocaleString(undefined, {
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** One rendered row; `data-position` and `data-id` are what the browser tests read. */
export function rowHtml(p: number, m: Message, highlight: string | null): string {
  const cls = [
    "row",
    m.late ? "late" : "",
    m.unread ? "unread" : "",
    m.id === highlight ? "highlight" : "",
  ];
  return (
    `<div class="${cls.join(" ").trim()}" data-position="${p}" data-id="${escapeHtml(m.id)}">` +
    `<span class="pos">#${p}</span><span class="time">${formatTime(m.ts)}</span>` +
    `<span class="author">${escapeHtml(m.author)}</span><span class="text">${escapeHtml(m.text)}</span></div>`
  );
}

/** The ts at a position between timeline points, interpolated: for the label under the thumb. */
export function interpolateTs(
  points: readonly { position: number; ts: number }[],
  position: number,
): number | undefined {
  if (points.length < 2) return undefined;
  let i = 1;
  while (i < points.length - 1 && (points[i]?.position ?? 0) < position) i++;
  const a = points[i - 1];
  const b = points[i];
  if (!a || !b) return undefined;
  const f = b.position === a.position ? 0 : (position - a.position) / (b.position - a.position);
  return Math.round(a.ts + f * (b.ts - a.ts));
}

/** The demo page's pure presentation helpers: times, escaping, scrollbar labels. */

/** One formatter for every row: `toLocaleString` with options builds a new one on each call. */
const TIME = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
});
const FULL_TIME = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });

export function formatTime(ts: number): string {
  return TIME.format(ts);
}

/** Date and time to the second: the "edited" mark's tooltip. */
export function formatFullTime(ts: number): string {
  return FULL_TIME.format(ts);
}

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
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

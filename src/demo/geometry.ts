/**
 * Where rows go on the demo's screen, by position: rows have a height each
 * (a line, and a line of reactions when there are any), so how many fit
 * depends on what they hold. Pure: heights come from a function, and only
 * the rows on screen are asked for, whatever the channel's size.
 */

/** How tall the row at a position is, in pixels (a row not held: one line). */
export type HeightOf = (position: number) => number;

/** How many rows are on a screen `screen` px tall from `top` down, the last one maybe cut (at least 1 when any). */
export function rowsFrom(top: number, total: number, heightOf: HeightOf, screen: number): number {
  let y = 0;
  let p = top;
  while (p < total && (y < screen || p === top)) y += heightOf(p++);
  return p - top;
}

/** The first row on screen when the last row sits at the bottom: every row from it fits whole (at least the last). */
export function bottomTop(total: number, heightOf: HeightOf, screen: number): number {
  let y = 0;
  let p = total;
  while (p > 0) {
    const h = heightOf(p - 1);
    if (y + h > screen && p < total) break;
    y += h;
    p--;
  }
  return p;
}

/** The last row wholly on a screen `screen` px tall from `top` down (`top − 1` when not even the first fits). */
export function lastWholeRow(
  top: number,
  total: number,
  heightOf: HeightOf,
  screen: number,
): number {
  let y = 0;
  let p = top;
  while (p < total && y + heightOf(p) <= screen) y += heightOf(p++);
  return p - 1;
}

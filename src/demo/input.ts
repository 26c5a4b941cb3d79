/**
 * Scrolling input for the demo's list: wheel, touch, keys and a drag of the
 * position scrollbar, each turned into "show the row at position p on top".
 */

export interface Scrolling {
  readonly viewport: HTMLElement;
  readonly scrollbar: HTMLElement;
  readonly thumb: HTMLElement;
  /** Pixels a row. */
  readonly rowHeight: number;
  /** Position of the first row on screen. */
  top(): number;
  maxTop(): number;
  visibleRows(): number;
  scrollTo(top: number): void;
}

export function bindScrolling({
  viewport,
  scrollbar,
  thumb,
  rowHeight,
  top,
  maxTop,
  visibleRows,
  scrollTo,
}: Scrolling): void {
  viewport.addEventListener(
    "wheel",
    (event) => {
      event.preventDefault();
      const rows =
        Math.sign(event.deltaY) * Math.max(1, Math.round(Math.abs(event.deltaY) / rowHeight));
      scrollTo(top() + rows);
    },
    { passive: false },
  );

  // Touch: drag the list with a finger, a row per rowHeight pixels.
  let touchY: number | undefined;
  viewport.addEventListener("touchstart", (event) => {
    touchY = event.touches[0]?.clientY;
  });
  viewport.addEventListener(
    "touchmove",
    (event) => {
      const y = event.touches[0]?.clientY;
      if (y === undefined || touchY === undefined) return;
      const rows = Math.trunc((touchY - y) / rowHeight);
      if (rows === 0) return;
      event.preventDefault();
      touchY -= rows * rowHeight;
      scrollTo(top() + rows);
    },
    { passive: false },
  );

  document.addEventListener("keydown", (event) => {
    if (event.target instanceof HTMLInputElement) return;
    const n = visibleRows();
    const moves: Record<string, number> = {
      ArrowDown: 1,
      ArrowUp: -1,
      PageDown: n,
      PageUp: -n,
      End: Infinity,
      Home: -Infinity,
    };
    const move = moves[event.key];
    if (move === undefined) return;
    event.preventDefault();
    scrollTo(move === Infinity ? maxTop() : move === -Infinity ? 0 : top() + move);
  });

  function dragTo(clientY: number): void {
    const rect = scrollbar.getBoundingClientRect();
    const size = thumb.offsetHeight;
    const fraction = (clientY - rect.top - size / 2) / Math.max(1, rect.height - size);
    scrollTo(Math.min(Math.max(fraction, 0), 1) * maxTop());
  }

  scrollbar.addEventListener("pointerdown", (event) => {
    scrollbar.setPointerCapture(event.pointerId);
    scrollbar.classList.add("dragging");
    dragTo(event.clientY);
  });
  scrollbar.addEventListener("pointermove", (event) => {
    if (scrollbar.hasPointerCapture(event.pointerId)) dragTo(event.clientY);
  });
  scrollbar.addEventListener("pointerup", (event) => {
    scrollbar.releasePointerCapture(event.pointerId);
    scrollbar.classList.remove("dragging");
  });
}

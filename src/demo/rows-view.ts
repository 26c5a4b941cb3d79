/**
 * Puts the demo's rows on screen by key, touching only what changed: a row
 * whose HTML is unchanged keeps its element (and the focus and caret inside
 * it), rows landing above only renumber the rows below, and a row rebuilt
 * (an edit, a reaction) gets the focus back on its control of the same
 * `data-key`. Live arrivals at the bottom thus never take the focus from a
 * button or the editor of another row.
 */

/** A row to show: its key (the message id, or `#position` for a placeholder), position and HTML. */
export interface RowView {
  readonly key: string;
  readonly position: number;
  readonly html: string;
}

const shown = new WeakMap<Element, { key: string; html: string }>();

/** Shows `rows` in `container`; `built` is called on each element made anew (to fill its inputs). */
export function patchRows(
  container: HTMLElement,
  rows: readonly RowView[],
  built: (el: HTMLElement, key: string) => void = () => {},
): void {
  const focus = focusIn(container);
  const old = new Map<string, HTMLElement>();
  for (const el of Array.from(container.children)) {
    const key = shown.get(el)?.key;
    if (key !== undefined && el instanceof HTMLElement) old.set(key, el);
    else el.remove();
  }
  const next = rows.map(({ key, html }) => {
    const prev = old.get(key);
    if (prev && shown.get(prev)?.html === html) {
      old.delete(key);
      return prev;
    }
    const el = build(html);
    shown.set(el, { key, html });
    built(el, key);
    return el;
  });
  // What leaves goes first, so the rows that stay are never moved (a move would drop their focus).
  for (const el of old.values()) el.remove();
  next.forEach((el, i) => {
    const at = container.children[i];
    if (at !== el) container.insertBefore(el, at ?? null);
    const position = String(rows[i]?.position);
    if (el.dataset.position !== position) {
      el.dataset.position = position;
      const label = el.querySelector(".pos");
      if (label) label.textContent = `#${position}`;
    }
  });
  if (focus && document.activeElement !== focus.element) restoreFocus(container, focus);
}

/** Focuses the control `control` of the row `key`, if shown; false when it is not. */
export function focusControl(container: HTMLElement, key: string, control: string): boolean {
  const row = Array.from(container.children).find((el) => shown.get(el)?.key === key);
  const target = row?.querySelector<HTMLElement>(`[data-key="${CSS.escape(control)}"]`);
  target?.focus({ preventScroll: true });
  return target !== undefined && target !== null;
}

function build(html: string): HTMLElement {
  const template = document.createElement("template");
  template.innerHTML = html;
  const el = template.content.firstElementChild;
  if (!(el instanceof HTMLElement)) throw new Error("a row's HTML must be one element");
  return el;
}

interface Focus {
  readonly element: HTMLElement;
  readonly row: string;
  readonly control: string;
  readonly selection: readonly [number, number] | undefined;
}

function focusIn(container: HTMLElement): Focus | undefined {
  const element = document.activeElement;
  if (!(element instanceof HTMLElement) || !container.contains(element)) return undefined;
  const rowEl = element.closest(".row");
  const row = rowEl ? shown.get(rowEl)?.key : undefined;
  const control = element.dataset.key;
  if (row === undefined || control === undefined) return undefined;
  const selection =
    element instanceof HTMLInputElement
      ? ([element.selectionStart ?? 0, element.selectionEnd ?? 0] as const)
      : undefined;
  return { element, row, control, selection };
}

/** Back on the same control of the rebuilt row; on its reaction button when that control is gone (say, a reaction taken off). */
function restoreFocus(container: HTMLElement, focus: Focus): void {
  if (!focusControl(container, focus.row, focus.control)) {
    focusControl(container, focus.row, "pick");
    return;
  }
  const input = document.activeElement;
  if (focus.selection && input instanceof HTMLInputElement)
    input.setSelectionRange(...focus.selection);
}

/**
 * What the controls in the demo's rows do (protocol 1.2): react and unreact,
 * the reaction picker, inline edit of one's own message (Enter saves, Escape
 * cancels) and delete after a confirmation. Clicks and keys are caught once
 * on the rows' container; the rows themselves come from row.ts. Nothing is
 * changed on screen before the server stores it: the window applies the
 * `update` or `remove` push that follows.
 */
import type { Change, Message } from "../client/index.ts";
import { PICKER } from "./row.ts";
import { focusControl } from "./rows-view.ts";

export interface RowActionsOptions {
  readonly rows: HTMLElement;
  /** Sends changes (`client.change`): resolves once they are stored. */
  change(changes: Change[]): Promise<unknown>;
  /** The held message of an id. */
  messageOf(id: string): Message | undefined;
  /** Renders the rows again. */
  render(): void;
  showError(err: unknown): void;
  /** Where the focus goes when its row is gone (the list itself). */
  rest(): void;
}

/** The one row being edited, confirmed or reacted to (each at most one at a time). */
export interface RowActions {
  editing: { id: string; draft: string } | null;
  confirming: string | null;
  picking: string | null;
}

export function bindRowActions(options: RowActionsOptions): RowActions {
  const { rows, render, showError } = options;
  const ui: RowActions = { editing: null, confirming: null, picking: null };

  /** Sets what the row shows, renders, and focuses one of its controls. */
  function show(id: string, next: Partial<RowActions>, control: string): void {
    Object.assign(ui, { editing: null, confirming: null, picking: null }, next);
    render();
    focusControl(rows, id, control);
  }

  async function react(id: string, emoji: string): Promise<void> {
    const mine = options.messageOf(id)?.reactions?.some((r) => r.emoji === emoji && r.mine);
    await options.change([{ kind: "react", id, emoji, on: !mine, ts: Date.now() }]);
  }

  async function save(id: string, text: string): Promise<void> {
    const before = options.messageOf(id)?.text;
    if (text !== before) await options.change([{ kind: "edit", id, text, ts: Date.now() }]);
    if (ui.editing?.id === id) show(id, {}, "edit");
  }

  async function remove(id: string): Promise<void> {
    show(id, {}, "delete");
    await options.change([{ kind: "delete", id }]);
    options.rest();
  }

  const actions: Record<string, (id: string, button: HTMLElement) => void | Promise<void>> = {
    pick: (id) =>
      ui.picking === id ? show(id, {}, "pick") : show(id, { picking: id }, `pick:${PICKER[0]}`),
    "pick-close": (id) => show(id, {}, "pick"),
    react: async (id, button) => {
      const emoji = button.dataset.emoji ?? "";
      // A pick closes the picker; a reaction under the message stays where it is.
      if (ui.picking === id && button.closest(".picker")) show(id, {}, "pick");
      await react(id, emoji);
    },
    edit: (id) => {
      const text = options.messageOf(id)?.text ?? "";
      show(id, { editing: { id, draft: text } }, "editor");
      const input = document.activeElement;
      if (input instanceof HTMLInputElement) input.setSelectionRange(text.length, text.length);
    },
    "cancel-edit": (id) => show(id, {}, "edit"),
    delete: (id) => show(id, { confirming: id }, "delete-no"),
    "delete-no": (id) => show(id, {}, "delete"),
    "delete-yes": remove,
  };

  rows.addEventListener("click", (event) => {
    const button = (event.target as Element).closest<HTMLElement>("[data-action]");
    const id = rowId(button);
    const action = actions[button?.dataset.action ?? ""];
    if (!button || id === undefined || !action) return;
    Promise.resolve(action(id, button)).catch(showError);
  });

  rows.addEventListener("submit", (event) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const id = rowId(form);
    const text = form.querySelector<HTMLInputElement>(".edit-text")?.value.trim() ?? "";
    // An empty text is no edit (a message has 1–4,000 characters): delete is the way to remove one.
    if (id === undefined || text === "") return;
    save(id, text).catch(showError);
  });

  rows.addEventListener("input", (event) => {
    const input = event.target;
    if (ui.editing && input instanceof HTMLInputElement && input.dataset.key === "editor")
      ui.editing.draft = input.value;
  });

  rows.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    const target = event.target as HTMLElement;
    const id = rowId(target);
    if (id === undefined) return;
    const back = target.closest(".editor")
      ? "edit"
      : target.closest(".confirm")
        ? "delete"
        : target.closest(".picker")
          ? "pick"
          : undefined;
    if (back === undefined) return;
    event.preventDefault();
    show(id, {}, back);
  });

  return ui;
}

function rowId(el: Element | null): string | undefined {
  return el?.closest<HTMLElement>(".row")?.dataset.id;
}

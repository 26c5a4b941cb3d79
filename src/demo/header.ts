/**
 * The demo page's header and send box: the connection status line (where
 * every error shows), the channel and user form, the simulator switch, and
 * the composer.
 */
import { ScrollbackError } from "../client/index.ts";
import { type Connection, USER_KEY } from "./connect.ts";

export interface Header {
  /** Shows an error in the status line. */
  showError(err: unknown): void;
  /**
   * Asks the server about the channel over HTTP first: a bad channel name (or
   * token) gets its error message there, where a refused WebSocket upgrade
   * would only say "closed" and retry forever.
   */
  checkChannel(): Promise<boolean>;
  /** Reads whether the simulator runs, for its switch. */
  refreshSimulator(): Promise<void>;
}

export function bindHeader({ channel, user, client, http }: Connection): Header {
  const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
  const conn = $<HTMLSpanElement>("conn");
  const simToggle = $<HTMLButtonElement>("sim-toggle");
  $<HTMLInputElement>("channel").value = channel;
  $<HTMLInputElement>("user").value = user;

  function showError(err: unknown): void {
    conn.textContent = `error: ${err instanceof Error ? err.message : String(err)}`;
    conn.classList.add("error");
  }

  client.on("hello", (hello) => {
    conn.classList.remove("error");
    conn.textContent = `connected as ${hello.user}`;
  });
  client.on("resync", (event) => {
    conn.textContent = event.complete
      ? `connected as ${user} · resumed`
      : `connected as ${user} · reloaded`;
  });
  client.on("disconnect", ({ reconnecting }) => {
    conn.textContent = reconnecting ? "reconnecting…" : "closed";
  });

  $<HTMLFormElement>("open-form").addEventListener("submit", () => {
    // The form navigates with ?channel=&user=; remember the name for the next visit.
    localStorage.setItem(USER_KEY, $<HTMLInputElement>("user").value);
  });

  $<HTMLFormElement>("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const input = $<HTMLInputElement>("text");
    const text = input.value.trim();
    if (!text) return;
    input.value = "";
    await client.send([{ text }]).catch(showError);
  });

  async function refreshSimulator(): Promise<void> {
    const sim = await http.simulator();
    simToggle.textContent = sim.running ? "Stop simulator" : "Start simulator";
    simToggle.dataset.running = String(sim.running);
  }

  simToggle.addEventListener("click", async () => {
    const running = simToggle.dataset.running === "true";
    await (running ? http.stopSimulator() : http.startSimulator()).catch(showError);
    await refreshSimulator();
  });

  async function checkChannel(): Promise<boolean> {
    try {
      await http.stats();
      return true;
    } catch (err) {
      const message = err instanceof ScrollbackError ? err.message : String(err);
      showError(new Error(`channel "${channel}": ${message}`));
      return false;
    }
  }

  return { showError, checkChannel, refreshSimulator };
}

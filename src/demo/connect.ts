/**
 * Who and where the demo page is: the channel, the user and the token from
 * its URL (the user name kept for the next visit), and the clients it talks
 * through.
 */
import { ScrollbackClient, ScrollbackHttp } from "../client/index.ts";

export const USER_KEY = "scrollback.user";

export interface Connection {
  readonly channel: string;
  /** The name the page asked for (a token's subject wins: see the `hello`). */
  readonly user: string;
  readonly client: ScrollbackClient;
  readonly http: ScrollbackHttp;
  /** Every socket the client opened: the browser test drops the connection through it. */
  readonly sockets: WebSocket[];
}

export function connect(): Connection {
  const params = new URLSearchParams(location.search);
  const channel = params.get("channel") ?? "demo";
  // The user name survives a reload, and with it the user's late badge (kept by the server).
  const user =
    params.get("user") ??
    localStorage.getItem(USER_KEY) ??
    `guest${Math.floor(Math.random() * 1000)}`;
  localStorage.setItem(USER_KEY, user);

  // On a secured worker, open the page with #token=<jwt> (npm run token): a
  // fragment is never sent to a server, so it stays out of logs (?token= works too).
  const token = new URLSearchParams(location.hash.slice(1)).get("token") ?? params.get("token");
  const sockets: WebSocket[] = [];
  class TrackedSocket extends WebSocket {
    constructor(url: string, protocols?: string | string[]) {
      super(url, protocols);
      sockets.push(this);
    }
  }
  const client = new ScrollbackClient({
    url: location.origin,
    channel,
    user,
    WebSocket: TrackedSocket,
    // The client offers the token as a subprotocol: it never goes in the socket's URL.
    ...(token ? { token } : {}),
  });
  const http = new ScrollbackHttp({ url: location.origin, channel, token: token ?? undefined });
  return { channel, user, client, http, sockets };
}

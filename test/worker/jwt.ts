/**
 * JWTs made by hand from RFC 7519 (not by the code under test): any header,
 * any payload text, signed HS256 or left unsigned, for the access tests.
 */

const base64url = (bytes: Uint8Array) =>
  btoa(String.fromCharCode(...bytes))
    .replace(/=+$/, "")
    .replace(/\+/g, "-")
    .replace(/\//g, "_");
/** base64url of a string's UTF-8 bytes, as JWT parts are encoded. */
export const text64 = (s: string) => base64url(new TextEncoder().encode(s));

/** A JWT with any header and payload text, signed HS256 with `secret` (or unsigned). */
export async function handmadeJwt(
  header: object,
  payload: string,
  secret?: string,
): Promise<string> {
  const head = `${text64(JSON.stringify(header))}.${text64(payload)}`;
  if (secret === undefined) return `${head}.`;
  const key = await crypto.subtle.importKey(
    "raw",
    new TextEncoder().encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(head));
  return `${head}.${base64url(new Uint8Array(mac))}`;
}

/** An HS256 JWT with these claims. */
export function hs256(claims: Record<string, unknown>, secret: string): Promise<string> {
  return handmadeJwt({ alg: "HS256", typ: "JWT" }, JSON.stringify(claims), secret);
}

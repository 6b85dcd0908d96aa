// Sign-in with the wallet (EIP-4361, Sign-In with Ethereum) to the data room: the server issues a
// nonce and the exact message, the wallet signs it (personal_sign: no transaction, no fee), the
// server checks it and sets an HttpOnly session cookie the page never sees. The page keeps only what
// GET /api/auth/session says (address, roles read from the chain's index, expiry, CSRF token).
import { ApiError, api } from "./api";
import { fmtTime } from "./dom";
import { errorMessage } from "./tx";
import { clients } from "./wallet";

export interface Session {
  address: string;
  roles: string[];
  name: string | null;
  expires_at: number;
  csrf_token: string;
}

export const CSRF_HEADER = "X-CSRF-Token";

let current: Session | null = null;
/** Why the last session ended without a sign-out (shown once, next to the Sign in button). */
let endedBecause: string | null = null;
let expiryTimer: ReturnType<typeof setTimeout> | null = null;

const listeners = new Set<() => void>();
export function onSessionChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function changed(): void {
  for (const fn of listeners) fn();
}

export function session(): Session | null {
  return current;
}

/** The reason the last session ended by itself, once (then null). */
export function takeEndReason(): string | null {
  const why = endedBecause;
  endedBecause = null;
  return why;
}

function set(s: Session | null): void {
  current = s;
  if (expiryTimer) clearTimeout(expiryTimer);
  expiryTimer = null;
  if (s) {
    // The server ends the session at expires_at (no renewal): say so then, not at the next click.
    const ms = s.expires_at * 1000 - Date.now();
    const at = fmtTime(s.expires_at);
    expiryTimer = setTimeout(() => ended(`Your sign-in expired at ${at}: sessions are short, so that a forgotten browser does not stay signed in. Sign in again to continue.`), Math.max(ms, 0));
  }
}

function ended(reason: string): void {
  if (!current) return;
  set(null);
  endedBecause = reason;
  changed();
}

/** The session the server holds for this browser, if any (null after sign-out or expiry). */
export async function loadSession(): Promise<Session | null> {
  try {
    set(await api<Session>("/api/auth/session"));
  } catch (e) {
    if (!(e instanceof ApiError && e.status === 401)) throw e;
    set(null);
  }
  return current;
}

// The server's sign-in refusals (docs/API.md) in plain words: what happened and what to do.
const REFUSED: Record<string, string> = {
  siwe_expired: "The sign-in message had expired before it reached CityLedger (it is valid for a few minutes; check your computer's clock). Nothing was shared. Sign in again.",
  siwe_nonce: "This sign-in message was already used or is too old, so it was refused. Sign in again: the page asks for a fresh one.",
  siwe_domain: "The sign-in message was made for another website, so CityLedger refused it. Sign in from this page.",
  siwe_uri: "The sign-in message was made for another website, so CityLedger refused it. Sign in from this page.",
  siwe_chain: "The sign-in message is for another network than CityLedger's. Switch your wallet to the CityLedger network and sign in again.",
  siwe_signature: "The signature does not belong to the account you sign in with, so you were not signed in. Check that your wallet shows the same account, and sign in again.",
};

/** A data-room error in plain words. */
export function roomErrorMessage(e: unknown): string {
  if (e instanceof ApiError && REFUSED[e.code]) return REFUSED[e.code];
  return errorMessage(e);
}

/** Sign in with the connected wallet: the server's EIP-4361 message, signed with personal_sign. */
export async function signIn(): Promise<Session> {
  const { walletClient, account } = await clients();
  const fields = await api("/api/auth/nonce", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ address: account }),
  });
  if (typeof fields?.message !== "string") throw new Error("The server gave no sign-in message.");
  const signature = await walletClient.signMessage({ account, message: fields.message });
  const s = await api<Session>("/api/auth/signin", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ message: fields.message, signature }),
  });
  endedBecause = null;
  set(s);
  changed();
  return s;
}

export async function signOut(): Promise<void> {
  const s = current;
  try {
    if (s) await api("/api/auth/signout", { method: "POST", headers: { [CSRF_HEADER]: s.csrf_token } });
  } catch (e) {
    // Already ended on the server: signed out all the same.
    if (!(e instanceof ApiError && e.status === 401)) throw e;
  }
  endedBecause = null;
  set(null);
  changed();
}

/** The server no longer knows the session (it expired, or was signed out elsewhere): the page says so. */
function whenSignedOut(e: unknown): unknown {
  if (e instanceof ApiError && e.code === "not_signed_in") ended("Your sign-in has ended (it expired or you signed out elsewhere). Sign in again to continue.");
  return e;
}

/** A data-room call with the session's CSRF token; a 401 means the session ended: the page says so. */
export async function roomApi<T = any>(path: string, init: RequestInit = {}): Promise<T> {
  const headers: Record<string, string> = { ...((init.headers as Record<string, string>) ?? {}) };
  if (current && init.method && init.method !== "GET") headers[CSRF_HEADER] = current.csrf_token;
  try {
    return await api<T>(path, { ...init, headers });
  } catch (e) {
    throw whenSignedOut(e);
  }
}

/** A file from the data room (raw bytes, not JSON), with the session's cookie; a refusal becomes
 *  the API's error (ApiError), and a 401 ends the session on the page as roomApi does. */
export async function roomFile(url: string): Promise<Response> {
  const res = await fetch(url, { credentials: "same-origin" }).catch(() => {
    throw new ApiError(0, "network", "The CityLedger server cannot be reached.");
  });
  if (res.ok) return res;
  const body = await res.json().catch(() => null);
  throw whenSignedOut(new ApiError(res.status, body?.error?.code ?? String(res.status), body?.error?.message ?? res.statusText));
}

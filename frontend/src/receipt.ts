// Check a consent receipt in the page: compare its on-chain facts with the consent's receipt as the
// index has it now (/api/consents/{key}/receipt). The same rules as check_receipt in
// src/cityledger/query/receipts.py (docs/RECEIPTS.md); `cityledger receipt verify` checks against
// the chain itself.
import { api, ApiError } from "./api";
import { clear, errorBox, h } from "./dom";

// Identity facts must equal the current receipt's; each event's facts must equal the current
// receipt's event at the same place; the anchor (latest grant) and the status must agree with the
// receipt's own events.
const IDENTITY_FACTS = [
  "@id",
  "header.recordId",
  "chain.chainId",
  "chain.contract",
  "chain.consentKey",
  "dataSubject.address",
  "processing.purpose.purposeHash",
  "processing.purpose.@id",
  "processing.scope.kind",
  "processing.scope.scopeId",
  "processing.recipient.address",
  "processing.recipient.anyAccreditedResearcher",
];
const EVENT_FACTS = ["change", "status", "timestamp", "time", "blockNumber", "transactionHash", "logIndex", "submittedBy", "byRelayer", "expiry", "nonce"];
const ANCHOR_FACTS: Record<string, string> = {
  "chain.transactionHash": "transactionHash",
  "chain.blockNumber": "blockNumber",
  "chain.logIndex": "logIndex",
  "processing.expiry": "expiry",
};
const MISSING = Symbol("missing");

export type Verdict = { verdict: "VALID" | "OUTDATED" | "INVALID"; field: string | null; reason: string };

function fact(doc: any, path: string): any {
  let node = doc;
  for (const part of path.split(".")) {
    if (Array.isArray(node) && /^\d+$/.test(part) && Number(part) < node.length) node = node[Number(part)];
    else if (node && typeof node === "object" && !Array.isArray(node) && Object.hasOwn(node, part)) node = node[part];
    else return MISSING;
  }
  return node;
}

function same(a: any, b: any): boolean {
  if (typeof a === "string" && typeof b === "string") return a.toLowerCase() === b.toLowerCase();
  return typeof a === typeof b && a === b;
}

function show(v: any): string {
  return v === MISSING ? "nothing" : JSON.stringify(v);
}

function invalid(path: string, a: any, b: any): Verdict {
  return { verdict: "INVALID", field: path, reason: `${path} says ${show(a)}; the ledger says ${show(b)}` };
}

/** A unix time as the receipt writes it ('2027-12-01T23:59:59Z'); null past any calendar. */
function iso(ts: unknown): string | null {
  if (typeof ts !== "number" || ts < 0 || ts > 253_402_300_799) return null;
  return new Date(ts * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function recordStatus(events: any[]): string | null {
  for (let i = events.length - 1; i >= 0; i--) {
    const s = events[i]?.status;
    if (s) return s === "dpv:ConsentWithdrawn" || s === "dpv:ConsentExpired" ? s : "dpv:ConsentGiven";
  }
  return null;
}

/** The verdict on a receipt against the truth (the consent's receipt as the index has it now). */
export function checkReceipt(claimed: any, truth: any): Verdict {
  if (!claimed || typeof claimed !== "object" || Array.isArray(claimed)) return { verdict: "INVALID", field: "", reason: "a receipt is a JSON object" };
  for (const path of IDENTITY_FACTS) {
    const a = fact(claimed, path);
    const b = fact(truth, path);
    if (a === MISSING || !same(a, b)) return invalid(path, a, b);
  }
  const mine = claimed.events;
  const real: any[] = truth.events;
  if (!Array.isArray(mine) || !mine.length) return { verdict: "INVALID", field: "events", reason: "events must list the consent's changes" };
  for (let i = 0; i < mine.length; i++) {
    if (i >= real.length) return { verdict: "INVALID", field: `events.${i}`, reason: `events.${i}: the ledger has no such change` };
    for (const name of EVENT_FACTS) {
      const a = fact(mine[i], name);
      const b = fact(real[i], name);
      if (a === MISSING || !same(a, b)) return invalid(`events.${i}.${name}`, a, b);
    }
  }
  const grants = mine.filter((e: any) => e?.change === "granted" || e?.change === "renewed");
  if (!grants.length) return { verdict: "INVALID", field: "events", reason: "events: a consent starts with a grant" };
  const last = grants[grants.length - 1];
  for (const [path, name] of Object.entries(ANCHOR_FACTS)) {
    const a = fact(claimed, path);
    if (a === MISSING || !same(a, last[name])) return { verdict: "INVALID", field: path, reason: `${path} says ${show(a)}; the receipt's latest grant says ${show(last[name])}` };
  }
  const until = iso(last.expiry);
  if (!same(fact(claimed, "processing.validUntil"), until))
    return { verdict: "INVALID", field: "processing.validUntil", reason: `processing.validUntil is not the expiry ${show(until)}` };
  const status = recordStatus(mine);
  if (!same(claimed.status, status)) return { verdict: "INVALID", field: "status", reason: `status says ${show(claimed.status)}; its own events say ${show(status)}` };
  if (real.length > mine.length) {
    const newer = real[mine.length];
    return { verdict: "OUTDATED", field: null, reason: `the consent changed since this receipt was issued (${newer.change} on ${newer.time}): it is now ${truth.status}` };
  }
  return { verdict: "VALID", field: null, reason: `every on-chain fact matches; the consent is ${status} now` };
}

const STATUS_WORDS: Record<string, string> = {
  "dpv:ConsentGiven": "given (active)",
  "dpv:ConsentWithdrawn": "withdrawn",
  "dpv:ConsentExpired": "expired",
};

/** The "Check a consent receipt" panel of the Verify page. */
export function receiptPanel(): HTMLElement {
  const input = h("input", { type: "file", id: "receipt-file", class: "visually-hidden-file", accept: ".jsonld,.json,application/ld+json,application/json" });
  const result = h("div", { id: "receipt-result", "aria-live": "polite" });
  input.addEventListener("change", async () => {
    const file = input.files?.[0];
    if (!file) return;
    clear(result, h("p", { class: "muted", "aria-busy": "true" }, `Checking ${file.name}…`));
    let claimed: any;
    try {
      claimed = JSON.parse(await file.text());
    } catch {
      clear(result, errorBox(`${file.name} is not a consent receipt (not JSON).`));
      return;
    }
    const key = fact(claimed, "chain.consentKey");
    if (typeof key !== "string" || !/^0x[0-9a-fA-F]{64}$/.test(key)) {
      clear(result, verdictBox({ verdict: "INVALID", field: "chain.consentKey", reason: "chain.consentKey is missing or not a consent key" }, file.name, null));
      return;
    }
    let truth: any;
    try {
      truth = await api(`/api/consents/${key}/receipt`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        clear(result, verdictBox({ verdict: "INVALID", field: "chain.consentKey", reason: "this ledger has no consent with that key" }, file.name, null));
      } else clear(result, errorBox(`Could not check ${file.name}: ${(e as Error).message}`));
      return;
    }
    clear(result, verdictBox(checkReceipt(claimed, truth), file.name, truth));
  });
  return h("section", { class: "panel", "aria-labelledby": "receipt-h", id: "receipt-check" },
    h("h2", { id: "receipt-h" }, "Check a consent receipt"),
    h("p", {}, "A consent receipt is the record of one consent and its changes that you can download from My data. Choose one to check that every fact in it is on the ledger, and that it is still current."),
    h("p", {}, h("label", { for: "receipt-file", class: "button" }, "Choose a receipt…")),
    input,
    result);
}

function verdictBox(v: Verdict, name: string, truth: any): HTMLElement {
  const tone = v.verdict === "VALID" ? "ok" : v.verdict === "OUTDATED" ? "warn" : "bad";
  const head = {
    VALID: "Genuine and current: every fact in this receipt matches the ledger.",
    OUTDATED: "Genuine, but out of date: the consent has changed since this receipt was issued.",
    INVALID: "Not valid: this receipt does not match the ledger. It may have been altered.",
  }[v.verdict];
  return h("div", { class: `verdict verdict-${tone}`, "data-verdict": v.verdict, "data-field": v.field ?? "" },
    h("p", { class: "verdict-title" }, h("strong", {}, head)),
    h("p", {}, "Receipt: ", h("bdi", { dir: "auto" }, name)),
    v.verdict === "INVALID" ? h("p", {}, "What does not match: ", h("code", {}, v.reason)) : null,
    truth && v.verdict !== "INVALID" ? h("p", {}, `The consent is ${STATUS_WORDS[truth.status] ?? truth.status} now. `, h("bdi", { dir: "auto" }, truth.summary ?? "")) : null,
    truth && v.verdict === "OUTDATED"
      ? h("p", {}, h("a", { href: `/api/consents/${truth.chain.consentKey}/receipt`, download: "" }, "Download the current receipt"))
      : null);
}

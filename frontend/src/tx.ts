// Every transaction shows its states in the transactions panel (an ARIA live region):
// waiting for the wallet -> pending (hash) -> mined -> indexed, or failed with the reason in plain
// words. A failure is also reported to the caller, which shows it next to the form that asked.
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, type Hash, type PublicClient } from "viem";
import { ApiError, waitForIndexer } from "./api";
import { h, hashCode } from "./dom";

export type TxState = "wallet" | "signing" | "relaying" | "pending" | "mined" | "indexed" | "failed";

const STATE_TEXT: Record<TxState, string> = {
  wallet: "Waiting for your wallet to confirm…",
  signing: "Waiting for your signature in the wallet…",
  relaying: "Sending your signature to the city's relayer…",
  pending: "Sent: waiting for the ledger to record it",
  mined: "Recorded; updating this page…",
  indexed: "Done: recorded and shown on this page",
  failed: "Failed",
};

// A finished entry leaves the panel by itself after this long (a failure stays until dismissed,
// and is shown next to its form too).
export const DONE_CLEARS_AFTER_MS = 6000;

// The contracts' refusals (docs/CONTRACTS.md revert strings) in plain words, for the citizen.
const REFUSALS: Record<string, string> = {
  "rights: unknown dataset": "There is no dataset with that number. Check the number on the dataset's page.",
  "rights: target is not a publisher": "That address is not a publisher on CityLedger. Copy it from a dataset's page.",
  "rights: target is not an address": "That is not a valid address.",
  "rights: unknown request kind": "This ledger does not accept that kind of request yet.",
  "rights: unknown target kind": "Choose whether the request is about a dataset or a publisher.",
  "rights: empty details hash": "Describe your request for the publisher.",
  "rights: too many open requests to this publisher":
    "You already have the maximum of open requests with this publisher: wait for an answer before filing another.",
  "rights: request is not open": "This request has already been answered or withdrawn.",
  "consent: not active": "This consent is not active any more: there is nothing to withdraw.",
  "consent: expiry is in the past": "The end date must be in the future.",
  "consent: empty purpose": "Choose a purpose.",
  "consent: empty dataset scope": "Choose a dataset.",
  "consent: publisher scope is not an address": "The publisher must be an address (0x followed by 40 characters).",
  "consent: unknown domain": "Choose a domain.",
  "consent: unknown scope kind": "Choose what the consent covers: one dataset, one publisher or a whole domain.",
  "consent: signature deadline passed": "Your signature expired before it was submitted. Please try again.",
  "consent: invalid signature": "The signature was not accepted. Please try again.",
  "consent: citizen is the zero address": "Connect your wallet again and retry.",
};
// The relayer's refusals (docs/API.md) that a citizen can act on.
const RELAYER: Record<string, string> = {
  stale_nonce: "Something changed this consent meanwhile. Reload the page and try again.",
  bad_signature: "The relayer could not check your signature. Please try again.",
  wrong_chain: "Your wallet signed for another network. Switch to the CityLedger network and retry.",
  expired: "The end date, or your signature, is already in the past. Choose a later date and retry.",
  rate_limited: "Too many requests in a short time. Wait a minute, then try again.",
};

/** A contract's revert reason in plain words (the reason itself when it is not one we know). */
export function plainRefusal(reason: string): string {
  const known = Object.keys(REFUSALS).find((r) => reason.includes(r));
  return known ? REFUSALS[known] : `The ledger refused this: ${reason}`;
}

/** The most useful text in an error, in plain words: the contract's or the relayer's refusal,
 *  or the wallet's rejection. */
export function errorMessage(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === "would_revert") return plainRefusal(e.message);
    return RELAYER[e.code] ?? e.message;
  }
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const reason = reverted.reason ?? reverted.data?.errorName;
      if (reason) return plainRefusal(reason);
    }
    if (e.walk((x) => x instanceof UserRejectedRequestError)) return "You rejected the request in your wallet.";
    return e.shortMessage || e.message;
  }
  const any = e as any;
  if (any?.code === 4001) return "You rejected the request in your wallet.";
  return any?.message ? String(any.message) : String(e);
}

/** The panel's height as --tx-height, so that scrolling and focus keep what they reach above it. */
function watchPanel(live: HTMLElement): void {
  if ((live as any).__watched) return;
  (live as any).__watched = true;
  new ResizeObserver(() => {
    const height = live.childElementCount ? live.getBoundingClientRect().height : 0;
    document.documentElement.style.setProperty("--tx-height", `${Math.ceil(height)}px`);
    // What has focus stays in view when the panel grows under it.
    const focused = document.activeElement;
    if (height && focused instanceof HTMLElement && focused !== document.body && focused.id !== "main") {
      const r = focused.getBoundingClientRect();
      if (r.bottom > window.innerHeight - height) focused.scrollIntoView({ block: "nearest" });
    }
  }).observe(live);
}

export class TxEntry {
  readonly el: HTMLElement;
  private stateEl: HTMLElement;
  private detailEl: HTMLElement;
  state: TxState = "wallet";

  constructor(readonly label: string) {
    this.stateEl = h("span", { class: "tx-state" });
    this.detailEl = h("span", { class: "tx-detail" });
    this.el = h("div", { class: "tx", "data-state": "wallet" }, h("strong", {}, label), " ", this.stateEl, " ", this.detailEl);
    const live = document.getElementById("tx-live");
    if (live) watchPanel(live);
    live?.prepend(this.el);
    // Keep the panel short on a phone: the three latest transactions.
    while (live && live.children.length > 3) live.lastElementChild?.remove();
  }

  set(state: TxState, detail?: string | Node): void {
    this.state = state;
    this.el.dataset.state = state;
    this.stateEl.textContent = state === "failed" ? STATE_TEXT.failed + ":" : STATE_TEXT[state];
    if (detail !== undefined) this.detailEl.replaceChildren(detail);
    if ((state === "indexed" || state === "failed") && !this.el.querySelector(".tx-dismiss")) {
      // Finished entries can be dismissed so the panel does not cover the page.
      this.el.append(h("button", { type: "button", class: "link tx-dismiss", "aria-label": `Dismiss: ${this.label}`, onclick: () => this.el.remove() }, "Dismiss"));
    }
    if (state === "indexed") setTimeout(() => this.el.remove(), DONE_CLEARS_AFTER_MS);
  }
}

export interface TxOptions {
  /** Reload the page's data once the index has the change. */
  refresh?: () => unknown;
  /** The failure in plain words, for the form that asked (shown next to it). */
  onFail?: (message: string) => void;
}

/** Follow a sent transaction to the index, then refresh the page's data. */
async function follow(entry: TxEntry, publicClient: PublicClient, hash: Hash, opts: TxOptions): Promise<boolean> {
  entry.set("pending", hashCode(hash));
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== "success") {
    const message = "The ledger refused the transaction.";
    entry.set("failed", h("span", {}, message, " (", hashCode(hash), ")"));
    opts.onFail?.(message);
    return false;
  }
  entry.set("mined", h("span", {}, "block ", String(receipt.blockNumber), " · ", hashCode(hash)));
  const caughtUp = await waitForIndexer(receipt.blockNumber);
  if (!caughtUp) {
    entry.set("mined", h("span", {}, "block ", String(receipt.blockNumber), " — this page is behind; reload it later"));
  } else {
    entry.set("indexed", h("span", {}, "block ", String(receipt.blockNumber), " · ", hashCode(hash)));
  }
  await opts.refresh?.();
  return true;
}

function failed(entry: TxEntry, e: unknown, opts: TxOptions): false {
  const message = errorMessage(e);
  entry.set("failed", message);
  opts.onFail?.(message);
  return false;
}

/** A transaction the wallet signs and sends (the caller simulates first, so a revert shows its reason). */
export async function runTx(label: string, publicClient: PublicClient, send: () => Promise<Hash>, opts: TxOptions = {}): Promise<boolean> {
  const entry = new TxEntry(label);
  entry.set("wallet", "");
  try {
    const hash = await send();
    return await follow(entry, publicClient, hash, opts);
  } catch (e) {
    return failed(entry, e, opts);
  }
}

/** A free action: the wallet signs typed data, the relayer pays for the transaction. */
export async function runSigned(
  label: string,
  publicClient: PublicClient,
  sign: () => Promise<Hash>,
  relay: (signature: Hash) => Promise<Hash>,
  opts: TxOptions = {},
): Promise<boolean> {
  const entry = new TxEntry(label);
  entry.set("signing", "");
  try {
    const signature = await sign();
    entry.set("relaying", "");
    const hash = await relay(signature);
    return await follow(entry, publicClient, hash, opts);
  } catch (e) {
    return failed(entry, e, opts);
  }
}

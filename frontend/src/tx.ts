// Every transaction shows its states in the transactions panel (an ARIA live region):
// waiting for the wallet -> pending (hash) -> mined -> indexed, or failed with the contract's reason.
import { BaseError, ContractFunctionRevertedError, UserRejectedRequestError, type Hash, type PublicClient } from "viem";
import { h, hashCode } from "./dom";
import { waitForIndexer } from "./api";

export type TxState = "wallet" | "signing" | "relaying" | "pending" | "mined" | "indexed" | "failed";

const STATE_TEXT: Record<TxState, string> = {
  wallet: "Waiting for your wallet to confirm…",
  signing: "Waiting for your signature in the wallet…",
  relaying: "Sending your signature to the relayer…",
  pending: "Pending: sent to the network, waiting to be mined",
  mined: "Mined; waiting for the index to catch up…",
  indexed: "Done: mined and visible on this page",
  failed: "Failed",
};

/** The most useful text in an error: the contract's revert reason when there is one. */
export function errorMessage(e: unknown): string {
  if (e instanceof BaseError) {
    const reverted = e.walk((x) => x instanceof ContractFunctionRevertedError);
    if (reverted instanceof ContractFunctionRevertedError) {
      const reason = reverted.reason ?? reverted.data?.errorName;
      if (reason) return `The contract refused: ${reason}`;
    }
    if (e.walk((x) => x instanceof UserRejectedRequestError)) return "You rejected the request in your wallet.";
    return e.shortMessage || e.message;
  }
  const any = e as any;
  if (any?.code === 4001) return "You rejected the request in your wallet.";
  return any?.message ? String(any.message) : String(e);
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
  }
}

/** Follow a sent transaction to the index, then refresh the page's data. */
async function follow(entry: TxEntry, publicClient: PublicClient, hash: Hash, refresh?: () => unknown): Promise<boolean> {
  entry.set("pending", hashCode(hash));
  const receipt = await publicClient.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== "success") {
    entry.set("failed", h("span", {}, "the transaction reverted on chain (", hashCode(hash), ")"));
    return false;
  }
  entry.set("mined", h("span", {}, "block ", String(receipt.blockNumber), " · ", hashCode(hash)));
  const caughtUp = await waitForIndexer(receipt.blockNumber);
  if (!caughtUp) {
    entry.set("mined", h("span", {}, "block ", String(receipt.blockNumber), " — the index is behind; refresh later"));
  } else {
    entry.set("indexed", h("span", {}, "block ", String(receipt.blockNumber), " · ", hashCode(hash)));
  }
  await refresh?.();
  return true;
}

/** A transaction the wallet signs and sends (the caller simulates first, so a revert shows its reason). */
export async function runTx(
  label: string,
  publicClient: PublicClient,
  send: () => Promise<Hash>,
  refresh?: () => unknown,
): Promise<boolean> {
  const entry = new TxEntry(label);
  entry.set("wallet", "");
  try {
    const hash = await send();
    return await follow(entry, publicClient, hash, refresh);
  } catch (e) {
    entry.set("failed", errorMessage(e));
    return false;
  }
}

/** A free action: the wallet signs typed data, the relayer pays for the transaction. */
export async function runSigned(
  label: string,
  publicClient: PublicClient,
  sign: () => Promise<Hash>,
  relay: (signature: Hash) => Promise<Hash>,
  refresh?: () => unknown,
): Promise<boolean> {
  const entry = new TxEntry(label);
  entry.set("signing", "");
  try {
    const signature = await sign();
    entry.set("relaying", "");
    const hash = await relay(signature);
    return await follow(entry, publicClient, hash, refresh);
  } catch (e) {
    entry.set("failed", errorMessage(e));
    return false;
  }
}

// CityLedger's web page: a hash router over its views, a wallet widget and a transactions panel.
import "./style.css";
import { datasetRef } from "./api";
import { renderCatalogue, renderDataset } from "./catalogue";
import { renderCitizen } from "./citizen";
import { consentKeyRef, renderConsent } from "./consent";
import { clear, h, shortHex } from "./dom";
import { renderResearcher } from "./researcher";
import { onSessionChange } from "./siwe";
import { renderStats } from "./stats";
import { renderVerify } from "./verify";
import { connect, disconnect, hasWallet, onRightChain, onWalletChange, restore, switchChain, wallet } from "./wallet";

const main = document.getElementById("main")!;
const walletBox = document.getElementById("wallet")!;

let routeSeq = 0;
async function route(focus = true): Promise<void> {
  const seq = ++routeSeq;
  const [path, query = ""] = (location.hash.slice(1) || "/catalogue").split("?");
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter(Boolean);
  for (const a of document.querySelectorAll<HTMLAnchorElement>("#nav a")) {
    const here =
      a.getAttribute("href")!.slice(2) === parts[0] ||
      (parts[0] === "dataset" && a.hash === "#/catalogue") ||
      (parts[0] === "consent" && a.hash === "#/citizen");
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  main.setAttribute("aria-busy", "true");
  try {
    switch (parts[0]) {
      case "dataset": {
        const ref = datasetRef(parts[1] ?? "");
        if (ref === null) clear(main, h("p", { class: "error", role: "alert" }, "That is not a dataset: a dataset is a number or a 0x content hash."));
        else await renderDataset(main, ref);
        break;
      }
      case "verify":
        renderVerify(main);
        break;
      case "stats":
        await renderStats(main);
        break;
      case "citizen":
        await renderCitizen(main);
        break;
      case "dataroom":
        await renderResearcher(main);
        break;
      case "consent": {
        const key = consentKeyRef(parts[1] ?? "");
        if (key === null) clear(main, h("p", { class: "error", role: "alert" }, "That is not a consent: a consent is named by its 0x key of 64 hex digits."));
        else await renderConsent(main, key);
        break;
      }
      default:
        await renderCatalogue(main, params);
    }
  } catch (e: any) {
    if (seq === routeSeq) clear(main, h("p", { class: "error", role: "alert" }, `Something went wrong: ${e?.message ?? e}`));
  }
  if (seq === routeSeq) main.removeAttribute("aria-busy");
  const title = main.querySelector("h1")?.textContent;
  document.title = title ? `${title} · CityLedger` : "CityLedger";
  // Move focus to the new content so keyboard and screen-reader users land on it.
  if (focus && seq === routeSeq) main.focus({ preventScroll: false });
}

function renderWallet(): void {
  if (!hasWallet()) {
    clear(walletBox, h("span", { class: "muted small" }, "No wallet"));
  } else if (!wallet.account) {
    clear(walletBox, h("button", { type: "button", onclick: () => connect() }, "Connect wallet"));
  } else if (!onRightChain()) {
    clear(walletBox, h("button", { type: "button", class: "warn", onclick: () => switchChain() }, "Switch network"));
  } else {
    clear(
      walletBox,
      h("span", { class: "account", title: wallet.account }, h("span", { class: "dot", "aria-hidden": "true" }), shortHex(wallet.account, 4)),
      h("button", { type: "button", class: "link", onclick: () => disconnect(), "aria-label": "Disconnect wallet from this page" }, "Disconnect"),
    );
  }
}

onWalletChange(() => {
  renderWallet();
  if (location.hash.startsWith("#/citizen") || location.hash.startsWith("#/dataroom")) route(false);
});
// Signing in or out, or the session's expiry, changes the data room's view.
onSessionChange(() => {
  if (location.hash.startsWith("#/dataroom")) route(false);
});
window.addEventListener("hashchange", () => route());
// The hash belongs to the router: the skip link moves focus without touching it (else "#main" would
// re-render the page, and leave a dataset page for the catalogue).
document.querySelector<HTMLAnchorElement>("a.skip")?.addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});
renderWallet();
restore();
route(false);

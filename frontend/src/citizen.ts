// My data: connect the wallet; my consents, each in one plain sentence with its dates and who
// submitted each change; grant (the sentence of what will happen is on screen before the wallet is
// asked), withdraw, cancel signatures; who used my data; my rights requests and their answers.
import {
  concat,
  encodeAbiParameters,
  getAddress,
  isAddress,
  keccak256,
  pad,
  toHex,
  type Address,
  type Hex,
} from "viem";
import { allPages, api, contractInfo, datasetBrief, deployment, items, postJson, purposes, purposeLabel, type DatasetBrief, type Purpose } from "./api";
import {
  ANY_RESEARCHER,
  DOMAINS,
  RIGHTS_EXPLAINED,
  RIGHTS_KINDS,
  RIGHTS_KIND_CODES,
  RIGHTS_STATUS,
  RIGHTS_STATUS_CODES,
  SCOPE_CODES,
  SCOPE_DATASET,
  SCOPE_PUBLISHER,
  TARGET_DATASET,
  TARGET_PUBLISHER,
  codeOf,
} from "./codes";
import { clear, details, disclosure, errorBox, field, fmtDate, fmtTime, h, hashCode, loading, nextId, select, shortHex, userText } from "./dom";
import { verifyInclusion } from "./merkle";
import { loadNames, orgLabel, orgWords } from "./names";
import { sha256Hex } from "./verify";
import { runSigned, runTx, type TxOptions } from "./tx";
import { clients, connect, hasWallet, networkName, onRightChain, switchChain, wallet } from "./wallet";
import {
  consentSentence,
  grantSentence,
  granteeWords,
  isAnyResearcher,
  loadConsentWords,
  revokeSentence,
  scopeWords,
  submitterWords,
  type ConsentTerms,
} from "./words";

/** A publisher's 0x address as the bytes32 id the contracts take (consent scope, rights target). */
function publisherId(value: string): Hex {
  if (!isAddress(value)) throw new Error("The publisher must be an address: 0x followed by 40 characters.");
  return pad(getAddress(value));
}

/** The bytes32 scope id the contract expects (left-padded id, address or domain code). */
function scopeIdOf(kind: number, value: string): Hex {
  if (kind === SCOPE_PUBLISHER) return publisherId(value);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(kind === SCOPE_DATASET ? "The dataset number must be a positive whole number." : "Choose a domain.");
  return pad(toHex(BigInt(n)));
}

/** Unix seconds for the end of a yyyy-mm-dd day in local time. */
function endOfDay(date: string): number {
  const [y, m, d] = date.split("-").map(Number);
  return Math.floor(new Date(y, m - 1, d, 23, 59, 59).getTime() / 1000);
}

function isoDate(d: Date): string {
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

/** A signature deadline one hour ahead of the chain's clock (a devnet's clock may run ahead). */
async function signatureDeadline(): Promise<bigint> {
  const { publicClient } = await clients();
  const block = await publicClient.getBlock();
  const now = BigInt(Math.max(Number(block.timestamp), Math.floor(Date.now() / 1000)));
  return now + 3600n;
}

const EIP712_COMMON = [
  { name: "citizen", type: "address" },
  { name: "purpose", type: "bytes32" },
  { name: "scopeKind", type: "uint8" },
  { name: "scopeId", type: "bytes32" },
  { name: "grantee", type: "address" },
] as const;
const GRANT_TYPES = {
  Grant: [...EIP712_COMMON, { name: "expiry", type: "uint64" }, { name: "nonce", type: "uint64" }, { name: "deadline", type: "uint256" }],
} as const;
const REVOKE_TYPES = {
  Revoke: [...EIP712_COMMON, { name: "nonce", type: "uint64" }, { name: "deadline", type: "uint256" }],
} as const;

interface ConsentArgs {
  purpose: Hex;
  scopeKind: number;
  scopeId: Hex;
  grantee: Address;
}

/** The consent key, as the contract computes it: keccak256(abi.encode(citizen, purpose, kind, scope, grantee)). */
function consentKey(citizen: Address, c: ConsentArgs): Hex {
  return keccak256(
    encodeAbiParameters(
      [{ type: "address" }, { type: "bytes32" }, { type: "uint8" }, { type: "bytes32" }, { type: "address" }],
      [citizen, c.purpose, c.scopeKind, c.scopeId, c.grantee],
    ),
  );
}

async function consentContract() {
  return contractInfo("ConsentRegistry");
}

/** The per-key nonce the next signature must carry (read from the contract, not the index). */
async function nonceFor(citizen: Address, c: ConsentArgs): Promise<bigint> {
  const { publicClient } = await clients();
  const { address, abi } = await consentContract();
  return (await publicClient.readContract({ address, abi, functionName: "nonce_of", args: [consentKey(citizen, c)] })) as bigint;
}

async function eip712Domain() {
  const d = await deployment();
  const { address } = await consentContract();
  return { name: "CityLedger Consent", version: "1", chainId: d.chainId, verifyingContract: address } as const;
}

/** Simulate first (a revert then shows the contract's reason before the wallet is asked), then send. */
async function sendConsentTx(functionName: "grant" | "revoke" | "cancel_signatures", args: readonly unknown[]): Promise<Hex> {
  const { publicClient, walletClient, account } = await clients();
  const { address, abi } = await consentContract();
  const { request } = await publicClient.simulateContract({ address, abi, functionName, args, account });
  return walletClient.writeContract(request as any);
}

async function consentTx(label: string, fn: "grant" | "revoke" | "cancel_signatures", args: readonly unknown[], opts: TxOptions): Promise<boolean> {
  const { publicClient } = await clients();
  return runTx(label, publicClient, () => sendConsentTx(fn, args), opts);
}

/** EIP-712 Grant or Revoke signed in the wallet (no gas), then submitted by the relayer. */
async function bySignature(action: "grant" | "revoke", c: ConsentArgs, expiry: bigint | null, opts: TxOptions): Promise<boolean> {
  const { publicClient, walletClient, account } = await clients();
  const { chainId } = await deployment();
  let deadline = 0n;
  let nonce = 0n;
  return runSigned(
    `${action === "grant" ? "Grant" : "Revoke"} consent (signature)`,
    publicClient,
    async () => {
      [nonce, deadline] = await Promise.all([nonceFor(account, c), signatureDeadline()]);
      const domain = await eip712Domain();
      const base = { citizen: account, ...c, nonce, deadline };
      return action === "grant"
        ? walletClient.signTypedData({ account, domain, types: GRANT_TYPES, primaryType: "Grant", message: { ...base, expiry: expiry! } })
        : walletClient.signTypedData({ account, domain, types: REVOKE_TYPES, primaryType: "Revoke", message: base });
    },
    async (signature) => {
      const body: Record<string, unknown> = {
        citizen: account, purpose: c.purpose, scope_kind: c.scopeKind, scope_id: c.scopeId, grantee: c.grantee,
        deadline: Number(deadline), nonce: Number(nonce), chain_id: chainId, signature,
      };
      if (expiry !== null) body.expiry = Number(expiry);
      return (await postJson(`/api/relay/${action}`, body)).tx_hash as Hex;
    },
    opts,
  );
}

// ---------------------------------------------------------------- the view

/** After an action and the refresh it causes, focus goes to what changed (never to <body>). */
let focusAfterRefresh: string | null = null;
/** A card's outcome message to show in its new rendering (the refresh replaces the card it was asked on). */
let noticeAfterRefresh: { id: string; text: string } | null = null;

function focusChanged(): void {
  const id = focusAfterRefresh;
  focusAfterRefresh = null;
  const el = id ? document.getElementById(id) : null;
  if (!el) return;
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "center" });
}

export async function renderCitizen(main: HTMLElement): Promise<void> {
  const title = h("h1", {}, "My data");
  if (!wallet.account || !onRightChain()) {
    clear(main, title, await connectPanel());
    return;
  }
  const me = wallet.account;
  const consents = consentsSection(me);
  const used = h("section", { "aria-labelledby": "used-h", id: "used" });
  const rights = h("section", { "aria-labelledby": "rights-h", id: "rights" });
  const refreshAll = async () => {
    await Promise.all([consents.load(refreshAll), loadUsed(used, me), loadRights(rights, me)]);
    focusChanged();
  };
  const form = await grantForm(me, refreshAll);
  // Replace the whole view at once: a wallet event may start a second render meanwhile,
  // and the last one to finish must win rather than both appending.
  clear(
    main,
    title,
    h("p", { class: "muted" },
      "Connected as ", h("code", { class: "hash", title: me }, shortHex(me)),
      ". This address is your pseudonym on the ledger: your name is never recorded."),
    consents.el,
    form,
    used,
    rights,
    rightsForm(refreshAll),
  );
  await refreshAll();
}

const WALLETS = [
  ["MetaMask", "https://metamask.io/"],
  ["Rabby", "https://rabby.io/"],
] as const;

async function connectPanel(): Promise<HTMLElement> {
  const box = h("div", { class: "panel connect-panel" });
  if (!hasWallet()) {
    const links = WALLETS.map(([name, url]) => h("a", { href: url, rel: "noopener noreferrer" }, name));
    box.append(
      h("h2", {}, "No wallet found"),
      h("p", { role: "alert", id: "no-wallet" },
        "To give or withdraw consent you need a browser wallet: an add-on that keeps your key and asks you before anything is signed. Install one, for example ",
        links[0], " or ", links[1], ", then reload this page."),
      h("p", { class: "muted" }, "You can still browse the catalogue and check files without a wallet."),
    );
  } else if (!wallet.account) {
    box.append(
      h("h2", {}, "Connect your wallet"),
      h("p", {}, "Your wallet address is your pseudonym here: consents, rights requests and data use are recorded under it, never your name."),
      h("button", { type: "button", class: "primary", onclick: () => connect() }, "Connect wallet"),
    );
  } else {
    const name = await networkName().catch(() => "the CityLedger network");
    box.append(
      h("h2", {}, "Wrong network"),
      h("p", { role: "alert", id: "wrong-chain" },
        `Your wallet is connected to another network than ${name}, where CityLedger keeps its records. Switch it; this costs nothing.`),
      h("button", { type: "button", class: "primary", onclick: () => switchChain() }, `Switch to ${name}`),
      details("Technical details", h("p", {}, `Your wallet's chain id: ${wallet.chainId}. ${name}'s chain id: ${wallet.expectedChainId}.`)),
    );
  }
  if (wallet.error) box.append(errorBox(wallet.error));
  return box;
}

/** A form's message area: errors next to the form, cleared as soon as the input changes. */
export function messageArea(form: HTMLFormElement): { el: HTMLElement; error: (m: string, control?: HTMLElement) => void; show: (n: Node) => void; clear: () => void } {
  const el = h("div", { class: "form-message", id: nextId("msg") });
  const reset = () => {
    el.replaceChildren();
    for (const c of form.querySelectorAll("[aria-invalid]")) c.removeAttribute("aria-invalid");
  };
  form.addEventListener("input", reset);
  form.addEventListener("change", reset);
  return {
    el,
    error(message, control) {
      reset();
      el.replaceChildren(errorBox(message));
      if (control) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-errormessage", el.id);
        control.focus();
      }
    },
    show: (n) => el.replaceChildren(n),
    clear: reset,
  };
}

async function grantForm(me: Address, refresh: () => Promise<void>): Promise<HTMLElement> {
  let list: Purpose[] = [];
  try {
    list = await purposes();
  } catch (e: any) {
    return errorBox(`Could not load the purposes: ${e.message}`);
  }
  const purpose = select("purpose", list.map((p) => [p.hash, p.label]), list.find((p) => p.name === "ScientificResearch")?.hash);
  const scopeKind = select("scope_kind", [["1", "One dataset"], ["2", "All datasets of one publisher"], ["3", "A whole domain"]], "3");
  const datasetId = h("input", { type: "number", name: "dataset_id", min: "1", step: "1", inputmode: "numeric" });
  const publisher = h("input", { type: "text", name: "publisher", placeholder: "0x…", spellcheck: "false", autocomplete: "off" });
  const domain = select("domain", Object.entries(DOMAINS), "7");
  const fDataset = field("Dataset number", datasetId, "The number shown on the dataset's page, e.g. 4 for dataset #4");
  const fPublisher = field("Publisher's address", publisher, "Copy it from a dataset's page");
  const fDomain = field("Domain", domain);
  const showScope = () => {
    fDataset.hidden = scopeKind.value !== "1";
    fPublisher.hidden = scopeKind.value !== "2";
    fDomain.hidden = scopeKind.value !== "3";
  };
  scopeKind.addEventListener("change", showScope);
  showScope();

  const granteeGroup = nextId("grantee");
  const anyR = h("input", { type: "radio", name: granteeGroup, value: "any", checked: true, id: nextId("g") });
  const oneR = h("input", { type: "radio", name: granteeGroup, value: "one", id: nextId("g") });
  const granteeAddr = h("input", { type: "text", name: "grantee", placeholder: "0x…", spellcheck: "false", autocomplete: "off" });
  const fGrantee = field("The organisation's address", granteeAddr);
  const showGrantee = () => (fGrantee.hidden = !oneR.checked);
  anyR.addEventListener("change", showGrantee);
  oneR.addEventListener("change", showGrantee);
  showGrantee();

  const inAYear = new Date();
  inAYear.setFullYear(inAYear.getFullYear() + 1);
  const tomorrow = new Date(Date.now() + 86_400_000);
  const expiry = h("input", { type: "date", name: "expiry", value: isoDate(inAYear), min: isoDate(tomorrow), required: true });

  const methodGroup = nextId("method");
  const bySig = h("input", { type: "radio", name: methodGroup, value: "sig", checked: true, id: nextId("m") });
  const byTx = h("input", { type: "radio", name: methodGroup, value: "tx", id: nextId("m") });
  const submit = h("button", { type: "submit", class: "primary" }, "Grant consent");
  const sentence = h("p", { id: "grant-sentence", class: "sentence" });
  const how = h("p", { class: "muted" });
  const summary = h("div", { class: "summary", "aria-live": "polite" }, h("h3", {}, "What you are agreeing to"), sentence, how);

  const form = h(
    "form",
    { class: "panel", id: "grant-form", "aria-labelledby": "grant-h", novalidate: true },
    h("h2", { id: "grant-h" }, "Grant consent"),
    field("What for", purpose, "The purpose, in the words of the W3C Data Privacy Vocabulary"),
    field("What it covers", scopeKind),
    fDataset, fPublisher, fDomain,
    h("fieldset", {}, h("legend", {}, "Who may use it"),
      h("div", { class: "radio" }, anyR, h("label", { for: anyR.id }, "Any accredited researcher")),
      h("div", { class: "radio" }, oneR, h("label", { for: oneR.id }, "One organisation")),
      fGrantee),
    field("Valid until", expiry),
    h("fieldset", {}, h("legend", {}, "How to record it"),
      h("div", { class: "radio" }, bySig, h("label", { for: bySig.id }, "Free: sign a message, the city's relayer submits it")),
      h("div", { class: "radio" }, byTx, h("label", { for: byTx.id }, "Transaction from my wallet (I pay a small network fee)"))),
    summary,
  );
  const message = messageArea(form);
  form.append(message.el, submit);

  // The sentence of what will happen, kept current as the form changes: it is on screen before the
  // wallet is asked anything.
  let seq = 0;
  const describe = async () => {
    const mine = ++seq;
    const kind = Number(scopeKind.value);
    let scope = "…";
    let brief: DatasetBrief | null = null;
    if (kind === SCOPE_DATASET) {
      const n = Number(datasetId.value);
      if (Number.isInteger(n) && n >= 1) {
        brief = await datasetBrief(n);
        scope = brief ? scopeWords(kind, pad(toHex(BigInt(n))), brief) : `dataset #${n} (not in the catalogue)`;
      } else scope = "the dataset you choose";
    } else if (kind === SCOPE_PUBLISHER) {
      const a = publisher.value.trim();
      if (isAddress(a)) {
        await loadNames([a]);
        scope = scopeWords(kind, pad(getAddress(a)));
      } else scope = "every dataset of the publisher you choose";
    } else scope = scopeWords(kind, pad(toHex(BigInt(domain.value))));
    let grantee: string = ANY_RESEARCHER;
    if (oneR.checked) {
      const a = granteeAddr.value.trim();
      if (isAddress(a)) {
        await loadNames([a]);
        grantee = a;
      } else grantee = "";
    }
    if (mine !== seq) return;
    const until = expiry.value ? endOfDay(expiry.value) : 0;
    const label = list.find((p) => p.hash === purpose.value)?.label ?? "the purpose you choose";
    const who = grantee ? undefined : "The organisation you name";
    const text = grantSentence({ grantee: grantee || ANY_RESEARCHER, scope, purposeLabel: label, until });
    sentence.textContent = who ? text.replace(/^Any accredited researcher/, who) : text;
    how.textContent = bySig.checked
      ? "You sign a message in your wallet; it costs you nothing. The city's relayer records it on the ledger."
      : "Your wallet sends a transaction; you pay a small network fee.";
  };
  form.addEventListener("input", () => void describe());
  form.addEventListener("change", () => void describe());
  await describe();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.clear();
    let args: ConsentArgs;
    let exp: bigint;
    const kind = Number(scopeKind.value);
    try {
      const value = kind === SCOPE_DATASET ? datasetId.value : kind === SCOPE_PUBLISHER ? publisher.value.trim() : domain.value;
      let grantee: Address = ANY_RESEARCHER;
      if (oneR.checked) {
        if (!isAddress(granteeAddr.value.trim())) {
          message.error("The organisation's address must be 0x followed by 40 characters.", granteeAddr);
          return;
        }
        grantee = getAddress(granteeAddr.value.trim());
      }
      if (!expiry.value) {
        message.error("Choose until when the consent is valid.", expiry);
        return;
      }
      exp = BigInt(endOfDay(expiry.value));
      if (exp <= BigInt(Math.floor(Date.now() / 1000))) {
        message.error("The end date must be in the future.", expiry);
        return;
      }
      args = { purpose: purpose.value as Hex, scopeKind: kind, scopeId: scopeIdOf(kind, value), grantee };
    } catch (e: any) {
      message.error(e.message, kind === SCOPE_DATASET ? datasetId : kind === SCOPE_PUBLISHER ? publisher : domain);
      return;
    }
    if (kind === SCOPE_DATASET && !(await datasetBrief(BigInt(args.scopeId)))) {
      message.error("There is no dataset with that number. Check the number on the dataset's page.", datasetId);
      return;
    }
    submit.disabled = true;
    const opts: TxOptions = { refresh, onFail: (m) => message.error(m) };
    focusAfterRefresh = `consent-${consentKey(me, args)}`;
    try {
      const ok = await (bySig.checked ? bySignature("grant", args, exp, opts) : consentTx("Grant consent", "grant", [args.purpose, args.scopeKind, args.scopeId, args.grantee, exp], opts));
      if (!ok) focusAfterRefresh = null;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function consentsSection(me: Address): { el: HTMLElement; load: (refresh: () => Promise<void>) => Promise<void> } {
  const filter = select("state", [["all", "All"], ["active", "Active"], ["expired", "Expired"], ["revoked", "Withdrawn"]], "all");
  const body = h("div", { id: "consents-list" });
  const el = h("section", { "aria-labelledby": "consents-h", id: "consents" },
    h("div", { class: "section-head" }, h("h2", { id: "consents-h" }, "My consents"), field("Show", filter)),
    body);
  let refreshAll: () => Promise<void> = async () => undefined;
  // The filter stays in place (and keeps focus) while the list under it is reloaded.
  filter.addEventListener("change", () => void loadConsents(body, me, refreshAll, filter.value));
  return {
    el,
    load: (refresh) => {
      refreshAll = refresh;
      return loadConsents(body, me, refresh, filter.value);
    },
  };
}

async function loadConsents(body: HTMLElement, me: Address, refresh: () => Promise<void>, state: string): Promise<void> {
  if (!body.childElementCount) clear(body, loading("your consents"));
  let rows: any[];
  try {
    rows = items(await api(`/api/citizens/${me}/consents?state=${state}&page_size=100`));
  } catch (e: any) {
    clear(body, errorBox(`Could not load your consents: ${e.message}`));
    return;
  }
  if (!rows.length) {
    clear(body, h("p", { class: "muted" }, state === "all" ? "You have not granted any consent yet." : `No ${state === "revoked" ? "withdrawn" : state} consent.`));
    return;
  }
  const kindOf = (r: any) => r.scope_kind_code ?? codeOf(r.scope_kind, SCOPE_CODES);
  const [labels, briefs] = await Promise.all([Promise.all(rows.map((r) => purposeLabel(r.purpose))), loadConsentWords(rows, kindOf)]);
  const list = h("ul", { class: "cards consents" });
  rows.forEach((r, i) => list.append(consentCard(r, labels[i], briefs.get(r.scope_id) ?? null, kindOf(r), me, refresh)));
  clear(body, list);
}

function consentCard(r: any, label: string, brief: DatasetBrief | null, kind: number, me: Address, refresh: () => Promise<void>): HTMLElement {
  const st: string = r.state ?? (r.active ? "active" : "expired");
  const grantee: string = r.grantee ?? ANY_RESEARCHER;
  const args: ConsentArgs = { purpose: r.purpose, scopeKind: kind, scopeId: r.scope_id, grantee: grantee as Address };
  const terms: ConsentTerms = { grantee, scope: scopeWords(kind, r.scope_id, brief), purposeLabel: label, until: Number(r.valid_until ?? r.expiry) };
  const titleId = nextId("consent-title");
  const cardId = `consent-${r.key}`;
  const stateName = st === "revoked" ? "withdrawn" : st;
  const message = h("div", { class: "form-message", id: nextId("msg") });
  if (noticeAfterRefresh?.id === cardId) {
    message.append(h("p", { class: "ok" }, noticeAfterRefresh.text));
    noticeAfterRefresh = null;
  }
  const opts: TxOptions = { refresh, onFail: (m) => message.replaceChildren(errorBox(m)) };
  const after = (ok: boolean) => {
    if (!ok) focusAfterRefresh = null;
  };

  // Facts: when it was granted, until when, when withdrawn, and who submitted each change.
  const facts: [string, Node | string][] = [
    ["Who may use it (grantee)", isAnyResearcher(grantee) ? "Any accredited researcher" : orgLabel(grantee)],
    ["Granted", `${fmtTime(r.granted_at)} ${submitterWords(r.granted_by ?? r.submitted_by, me)}`.trim()],
  ];
  if (r.first_granted_at && r.first_granted_at !== r.granted_at) facts.push(["First granted", fmtTime(r.first_granted_at)]);
  facts.push([st === "expired" ? "Expired" : "Valid until", fmtDate(Number(terms.until))]);
  if (st === "revoked") facts.push(["Withdrawn", `${fmtTime(r.revoked_at)} ${submitterWords(r.revoked_by ?? r.submitted_by, me)}`.trim()]);

  const actions = h("div", { class: "actions" });
  const extra = h("div", {});
  if (st === "active") {
    const confirmId = nextId("confirm");
    const toggleId = nextId("withdraw");
    const toggle = h("button", { type: "button", id: toggleId, "aria-expanded": "false", "aria-controls": confirmId, "aria-labelledby": `${toggleId} ${titleId}` }, "Withdraw consent…");
    const sigId = nextId("w-sig");
    const txId = nextId("w-tx");
    const bySig = h("button", { type: "button", class: "primary", id: sigId, "aria-labelledby": `${sigId} ${titleId}` }, "Withdraw for free (sign in your wallet)");
    const byTx = h("button", { type: "button", id: txId, "aria-labelledby": `${txId} ${titleId}` }, "Withdraw with a transaction (you pay the fee)");
    const keep = h("button", { type: "button", class: "link" }, "Keep it");
    const confirm = h("div", { class: "confirm", id: confirmId, hidden: true },
      h("p", { class: "sentence" }, revokeSentence(terms)),
      h("div", { class: "actions" }, bySig, byTx, keep));
    disclosure(toggle, confirm, bySig, keep);
    const go = (fn: () => Promise<boolean>) => async () => {
      bySig.disabled = byTx.disabled = true;
      focusAfterRefresh = cardId;
      const ok = await fn();
      after(ok);
      if (!ok) bySig.disabled = byTx.disabled = false;
    };
    bySig.addEventListener("click", go(() => bySignature("revoke", args, null, opts)));
    byTx.addEventListener("click", go(() => consentTx("Revoke consent", "revoke", [args.purpose, args.scopeKind, args.scopeId, args.grantee], opts)));
    actions.append(toggle);
    extra.append(confirm);
  }
  actions.append(
    h("a", { class: "button", href: `#/consent/${r.key}`, "aria-label": `History and receipt: ${label}, ${terms.scope}, ${granteeWords(grantee, false)}` }, "History and receipt"),
  );
  // Cancel signatures: any state (a signed grant may wait while the consent is withdrawn or expired).
  const cancelId = nextId("cancel");
  const cancelHint = nextId("cancel-hint");
  const cancel = h("button", { type: "button", id: cancelId, "aria-labelledby": `${cancelId} ${titleId}`, "aria-describedby": cancelHint }, "Cancel signatures I gave for this consent");
  cancel.addEventListener("click", async () => {
    const { abi } = await consentContract();
    if (!abi.some((x: any) => x.type === "function" && x.name === "cancel_signatures")) {
      message.replaceChildren(errorBox("This ledger's consent contract cannot cancel signatures yet: nothing was sent."));
      return;
    }
    cancel.disabled = true;
    focusAfterRefresh = cardId;
    const done = "Done: every signature you gave for this consent and that was not yet recorded is now useless.";
    noticeAfterRefresh = { id: cardId, text: done };
    const ok = await consentTx("Cancel signatures", "cancel_signatures", [args.purpose, args.scopeKind, args.scopeId, args.grantee], opts);
    noticeAfterRefresh = null;
    after(ok);
    cancel.disabled = false;
    // The refresh rendered the card anew with the message; this card stays only when it did not.
    if (ok && message.isConnected) message.replaceChildren(h("p", { class: "ok" }, done));
  });
  extra.append(
    h("div", { class: "cancel-sigs" }, cancel,
      h("p", { class: "hint", id: cancelHint },
        "If you signed a change to this consent and it was never recorded (for example you closed the page before the relayer sent it), that signature stays usable until its deadline, an hour after you signed. This makes all such signatures useless. The consent itself does not change; you pay a small network fee.")),
    message,
  );
  return h("li", { class: "card consent", "data-state": st, "data-key": r.key, id: cardId, tabindex: "-1", "aria-labelledby": titleId },
    h("h3", { id: titleId }, `${label} · `, userText(terms.scope), ` · ${granteeWords(grantee, false)}`),
    h("p", {}, h("span", { class: `badge badge-${st}` }, stateName)),
    h("p", { class: "sentence consent-sentence" }, consentSentence(terms, st, r.revoked_at)),
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    actions,
    extra,
  );
}

async function loadUsed(section: HTMLElement, me: Address): Promise<void> {
  const head = h("h2", { id: "used-h" }, "Who used my data");
  if (!section.childElementCount) clear(section, head, loading("data releases"));
  let rows: any[];
  try {
    rows = await allPages(`/api/citizens/${me}/used`);
  } catch (e: any) {
    clear(section, head, errorBox(`Could not load the releases: ${e.message}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, h("p", { class: "muted" }, "No release of data has included you."));
    return;
  }
  const [labels, briefs] = await Promise.all([
    Promise.all(rows.map((r) => purposeLabel(r.purpose))),
    Promise.all(rows.map((r) => (r.dataset_id ? datasetBrief(r.dataset_id) : Promise.resolve(null)))),
  ]);
  await loadNames([...rows.map((r) => r.grantee), ...briefs.map((b) => b?.publisher)]);
  const list = h("ul", { class: "cards" });
  rows.forEach((r, i) => {
    // The proof is checked here, against the root logged on chain: the page need not trust the server.
    const proof: Hex[] = r.proof ?? r.merkle_proof ?? [];
    const root: Hex = r.consent_root;
    const ok = !!root && verifyInclusion(me, proof, root);
    const brief = briefs[i];
    const what = brief?.title ? `'${brief.title}'` : `dataset #${r.dataset_id}`;
    list.append(
      h("li", { class: "card", "data-verified": String(ok) },
        h("h3", {}, userText(what), " was given to ", orgLabel(r.grantee)),
        h("p", {},
          `On ${fmtDate(r.timestamp)}, `, brief?.publisher ? orgLabel(brief.publisher) : "its publisher",
          ` gave data about ${r.subject_count ?? "?"} ${Number(r.subject_count) === 1 ? "person" : "people"}, you among them, to `,
          orgLabel(r.grantee), ` for ${labels[i].toLowerCase()}. `,
          r.dataset_id ? h("a", { href: `#/dataset/${r.dataset_id}` }, `See dataset #${r.dataset_id}`) : ""),
        kWords(Number(r.k_anonymity ?? 0)),
        h("p", { class: ok ? "ok" : "error" },
          ok
            ? "✔ Checked in this page: the ledger's record of this release lists you among the people whose consent allowed it."
            : "✘ The proof this server sent does not match the ledger's record of this release: do not trust this entry."),
        details("Technical details",
          h("p", {}, `Release #${r.release_id ?? r.id}, access #${r.access_id}. Consent checked as it stood at block ${r.snapshot_block ?? "?"}.`),
          h("p", {}, "Merkle root of the people included (logged on chain): ", hashCode(root)),
          h("p", {}, "Transaction: ", hashCode(r.tx_hash), ` (block ${r.block_number ?? "?"})`)),
      ),
    );
  });
  clear(section, head, list);
}

/** The k-anonymity a release reached (issue 19; 0: its dataset declares no detail that could single a
 *  person out), as the ledger records it, in words. */
function kWords(k: number): HTMLElement | null {
  if (!(k > 0)) return null;
  const others = k - 1 === 1 ? "1 other person" : `${k - 1} other people`;
  return h("p", { class: "k-anonymity" },
    `Before it was given, the data was checked so that the details which could single you out (such as age or district) are shared with at least ${others} in it: `
    + `no one can be picked out from fewer than ${k} people (k = ${k}).`);
}

// What each right asks the publisher to do, to complete "You ask X to ...".
const RIGHTS_ASK: Record<number, string> = {
  1: "give you a copy of the data it holds about you in",
  2: "correct the data about you in",
  3: "erase the data about you in",
  4: "send you, in a machine-readable file, the data about you in",
  5: "pause the use of the data about you in",
  6: "stop using the data about you in",
  7: "tell you what data about you it has, where it came from and why it uses it, in",
  8: "have a person review any decision about you made solely by automated processing of",
};

function rightsForm(refresh: () => Promise<void>): HTMLElement {
  const kind = select("kind", Object.entries(RIGHTS_KINDS), "1");
  const kindHint = h("small", { class: "hint", id: nextId("hint"), "aria-live": "polite" });
  kind.setAttribute("aria-describedby", kindHint.id);
  const targetKind = select("target_kind", [["1", "A publisher"], ["2", "A dataset"]], "2");
  const target = h("input", { type: "text", name: "target", required: true, spellcheck: "false", autocomplete: "off" });
  const targetField = field("Dataset number", target, "The dataset's number (#4: 4), or the publisher's 0x address");
  const syncTarget = () => {
    targetField.querySelector("label")!.textContent = targetKind.value === "1" ? "Publisher's address" : "Dataset number";
    target.placeholder = targetKind.value === "1" ? "0x…" : "e.g. 3";
    target.inputMode = targetKind.value === "1" ? "text" : "numeric";
  };
  targetKind.addEventListener("change", syncTarget);
  syncTarget();
  const details_ = h("textarea", { name: "details", rows: 3, required: true });
  const sentence = h("p", { class: "sentence", id: "rights-sentence" });
  const submit = h("button", { type: "submit", class: "primary" }, "File the request");
  const form = h(
    "form",
    { class: "panel", id: "rights-form", "aria-labelledby": "rights-form-h", novalidate: true },
    h("h2", { id: "rights-form-h" }, "File a rights request"),
    h("div", { class: "field" }, h("label", { for: (kind.id ||= nextId("f")) }, "Right"), kind, kindHint),
    field("About", targetKind),
    targetField,
    field("Your request, in your words", details_,
      "Only a fingerprint (salted hash) of this text goes on the ledger. Keep the receipt you get: it proves what you asked."),
    h("div", { class: "summary", "aria-live": "polite" }, h("h3", {}, "What you are asking"), sentence),
  );
  const message = messageArea(form);
  form.append(message.el, submit);

  let seq = 0;
  const describe = async () => {
    const mine = ++seq;
    const k = Number(kind.value);
    kindHint.textContent = RIGHTS_EXPLAINED[k] ?? "";
    const t = target.value.trim();
    let who = "the publisher";
    let what = "the dataset you name";
    if (targetKind.value === "1") {
      what = "its datasets";
      if (isAddress(t)) {
        await loadNames([t]);
        who = orgWords(t);
      }
    } else if (/^\d+$/.test(t) && BigInt(t) >= 1n) {
      const brief = await datasetBrief(BigInt(t));
      what = brief ? scopeWords(SCOPE_DATASET, pad(toHex(BigInt(t))), brief) : `dataset #${t} (not in the catalogue)`;
      if (brief?.publisher) {
        await loadNames([brief.publisher]);
        who = orgWords(brief.publisher);
      }
    }
    if (mine !== seq) return;
    const due = fmtDate(Math.floor(Date.now() / 1000) + 30 * 86400);
    sentence.textContent = `You ask ${who} to ${RIGHTS_ASK[k]} ${what}. It must answer within 30 days, by ${due}. Filing is a transaction from your wallet: you pay a small network fee.`;
  };
  form.addEventListener("input", () => void describe());
  form.addEventListener("change", () => void describe());
  void describe();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.clear();
    let args: [number, number, Hex, Hex];
    let receipt: Record<string, string>;
    const tk = Number(targetKind.value);
    const t = target.value.trim();
    let targetId: Hex;
    try {
      if (tk === TARGET_PUBLISHER) targetId = publisherId(t);
      else {
        if (!/^\d+$/.test(t) || BigInt(t) < 1n) throw new Error("The dataset number must be a positive whole number.");
        targetId = pad(toHex(BigInt(t)));
      }
    } catch (e: any) {
      message.error(e.message, target);
      return;
    }
    const text = details_.value.trim();
    if (!text) {
      message.error("Describe your request for the publisher.", details_);
      return;
    }
    // Salted so the hash cannot be guessed from a short text; the receipt keeps salt and text.
    const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
    const detailsHash = keccak256(concat([salt, toHex(text)]));
    args = [Number(kind.value), tk, targetId, detailsHash];
    receipt = { kind: RIGHTS_KINDS[Number(kind.value)], target: t, details: text, salt, details_hash: detailsHash };
    submit.disabled = true;
    try {
      const { publicClient, walletClient, account } = await clients();
      const { address, abi } = await contractInfo("RightsRegistry");
      const ok = await runTx("File rights request", publicClient, async () => {
        const { request } = await publicClient.simulateContract({ address, abi, functionName: "file_request", args, account });
        return walletClient.writeContract(request as any);
      }, { refresh, onFail: (m) => message.error(m, tk === TARGET_DATASET ? target : undefined) });
      if (ok) {
        const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" });
        const done = h("p", { class: "ok", id: "rights-filed", tabindex: "-1" }, "Filed. ",
          h("a", { href: URL.createObjectURL(blob), download: `rights-request-${receipt.details_hash.slice(2, 10)}.json` }, "Download your receipt"),
          " (your text and its salt: keep it).");
        message.show(done);
        details_.value = "";
        done.focus();
      }
    } catch (e: any) {
      message.error(e.message);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

/** The publisher's answer: the document whose SHA-256 is the answer hash on chain, checked here. */
async function answerDocument(answerHash: string): Promise<HTMLElement> {
  let res: Response;
  try {
    res = await fetch(`/api/documents/${encodeURIComponent(answerHash)}`);
  } catch {
    return h("p", { class: "muted" }, "The answer document cannot be fetched now.");
  }
  if (!res.ok) return h("p", { class: "muted answer-missing" }, "The answer document is not available here. Its fingerprint on the ledger: ", hashCode(answerHash));
  const bytes = await res.arrayBuffer();
  if ((await sha256Hex(bytes)).toLowerCase() !== answerHash.toLowerCase()) {
    return h("p", { class: "error answer-mismatch", role: "alert" }, "The answer document this server sent does not match its hash on the ledger: it is not shown.");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return h("p", { class: "muted" }, "The answer is a file, not text: ", h("a", { href: URL.createObjectURL(new Blob([bytes])), download: `answer-${answerHash.slice(2, 10)}` }, "download it"), ".");
  }
  return h("div", { class: "answer" },
    h("p", { class: "ok" }, "✔ The publisher's answer, checked against its hash on the ledger:"),
    h("pre", { dir: "auto", class: "user-text answer-text", tabindex: "0" }, text));
}

const STATUS_EXPLAINED: Record<string, string> = {
  Fulfilled: "The publisher says it did what you asked.",
  Refused: "The publisher declined your request; its reasons should be in its answer. You can complain to your data protection authority.",
  Rejected: "The publisher rejected your request as not coming from the person the data is about, or as manifestly unfounded or excessive (GDPR Art. 12(5)). If you disagree, you can complain to your data protection authority.",
  Withdrawn: "You withdrew this request.",
};

async function loadRights(section: HTMLElement, me: Address): Promise<void> {
  const head = h("h2", { id: "rights-h" }, "My rights requests");
  if (!section.childElementCount) clear(section, head, loading("your rights requests"));
  let rows: any[];
  try {
    rows = items(await api(`/api/citizens/${me}/rights?page_size=100`));
  } catch (e: any) {
    clear(section, head, errorBox(`Could not load your rights requests: ${e.message}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, h("p", { class: "muted" }, "You have not filed any rights request."));
    return;
  }
  await loadNames(rows.map((r) => r.publisher));
  const now = Date.now() / 1000;
  const list = h("ul", { class: "cards" });
  for (const r of rows) {
    const status = RIGHTS_STATUS[codeOf(r.status, RIGHTS_STATUS_CODES)] ?? String(r.status);
    const kindName = RIGHTS_KINDS[codeOf(r.kind, RIGHTS_KIND_CODES)] ?? String(r.kind);
    const deadline = Number(r.deadline);
    const overdue = r.overdue ?? (status === "Open" && deadline < now);
    const tk = codeOf(r.target_kind, { publisher: 1, dataset: 2 });
    const target = tk === TARGET_DATASET
      ? h("a", { href: `#/dataset/${BigInt(r.target)}` }, `dataset #${BigInt(r.target)}`)
      : "all its datasets";
    const days = Math.ceil((deadline - now) / 86400);
    const answer = h("div", {});
    if (r.answer_hash) void answerDocument(r.answer_hash).then((el) => answer.replaceChildren(el));
    list.append(
      h("li", { class: "card", "data-status": status.toLowerCase() },
        h("h3", {}, `${kindName} request #${r.request_id ?? r.id}`, " ",
          h("span", { class: `badge badge-${overdue ? "overdue" : status.toLowerCase()}` }, overdue ? "Overdue" : status)),
        h("p", { class: "meta" }, "To ", orgLabel(r.publisher), " about ", target, r.filed_at ? ` · filed on ${fmtDate(r.filed_at)}` : ""),
        status === "Open"
          ? h("p", {}, `Answer due by ${fmtTime(deadline)}`, overdue ? " — the deadline has passed." : ` (${days} day${days === 1 ? "" : "s"} left).`)
          : h("p", {}, `${status}${r.answered_at ? ` on ${fmtDate(r.answered_at)}` : ""}${r.late ? " (answered late)" : ""}. `, STATUS_EXPLAINED[status] ?? ""),
        answer,
      ),
    );
  }
  clear(section, head, list);
}

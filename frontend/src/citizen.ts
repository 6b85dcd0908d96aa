// Citizen view: connect the wallet, see and manage my consents, who used my data, my rights requests.
import {
  concat,
  getAddress,
  isAddress,
  keccak256,
  pad,
  toHex,
  type Address,
  type Hex,
} from "viem";
import { allPages, api, contractInfo, deployment, items, postJson, purposes, purposeLabel, type Purpose } from "./api";
import {
  ANY_RESEARCHER,
  DOMAINS,
  RIGHTS_KINDS,
  RIGHTS_STATUS,
  SCOPE_CODES,
  SCOPE_DATASET,
  SCOPE_DOMAIN,
  SCOPE_PUBLISHER,
  SCOPES,
  TARGET_DATASET,
  TARGET_PUBLISHER,
  codeOf,
  domainLabel,
} from "./codes";
import { clear, errorBox, field, fmtTime, h, hashCode, loading, nextId, select, shortHex } from "./dom";
import { verifyInclusion } from "./merkle";
import { runSigned, runTx } from "./tx";
import { clients, connect, hasWallet, onRightChain, switchChain, wallet } from "./wallet";

/** A publisher's 0x address as the bytes32 id the contracts take (consent scope, rights target). */
function publisherId(value: string): Hex {
  if (!isAddress(value)) throw new Error("The publisher must be a 0x address (42 characters).");
  return pad(getAddress(value));
}

/** The bytes32 scope id the contract expects (left-padded id, address or domain code). */
export function scopeIdOf(kind: number, value: string): Hex {
  if (kind === SCOPE_PUBLISHER) return publisherId(value);
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new Error(kind === SCOPE_DATASET ? "The dataset id must be a positive whole number." : "Choose a domain.");
  return pad(toHex(BigInt(n)));
}

function describeScope(kind: number, id: string): string | Node {
  if (!id) return SCOPES[kind] ?? "?";
  const n = BigInt(id);
  if (kind === SCOPE_DATASET) return h("a", { href: `#/dataset/${n}` }, `Dataset ${n}`);
  if (kind === SCOPE_DOMAIN) return `Domain: ${domainLabel(Number(n))}`;
  if (kind === SCOPE_PUBLISHER) return `Publisher ${shortHex(getAddress(`0x${id.slice(-40)}`))}`;
  return id;
}

function describeGrantee(g: string): string {
  return !g || g.toLowerCase() === ANY_RESEARCHER ? "Any accredited researcher" : shortHex(g);
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

async function consentContract() {
  return contractInfo("ConsentRegistry");
}

/** The per-key nonce the next signature must carry (read from the contract, not the index). */
async function nonceFor(citizen: Address, c: ConsentArgs): Promise<bigint> {
  const { publicClient } = await clients();
  const { address, abi } = await consentContract();
  const key = (await publicClient.readContract({
    address, abi, functionName: "consent_key", args: [citizen, c.purpose, c.scopeKind, c.scopeId, c.grantee],
  })) as Hex;
  return (await publicClient.readContract({ address, abi, functionName: "nonce_of", args: [key] })) as bigint;
}

async function eip712Domain() {
  const d = await deployment();
  const { address } = await consentContract();
  return { name: "CityLedger Consent", version: "1", chainId: d.chainId, verifyingContract: address } as const;
}

/** Simulate first (a revert then shows the contract's reason before the wallet is asked), then send. */
async function sendConsentTx(functionName: "grant" | "revoke", args: readonly unknown[]): Promise<Hex> {
  const { publicClient, walletClient, account } = await clients();
  const { address, abi } = await consentContract();
  const { request } = await publicClient.simulateContract({ address, abi, functionName, args, account });
  return walletClient.writeContract(request as any);
}

export async function grantByTx(c: ConsentArgs, expiry: bigint, refresh: () => unknown): Promise<boolean> {
  const { publicClient } = await clients();
  return runTx("Grant consent", publicClient, () => sendConsentTx("grant", [c.purpose, c.scopeKind, c.scopeId, c.grantee, expiry]), refresh);
}

export async function grantBySignature(c: ConsentArgs, expiry: bigint, refresh: () => unknown): Promise<boolean> {
  return bySignature("grant", c, expiry, refresh);
}

export async function revokeByTx(c: ConsentArgs, refresh: () => unknown): Promise<boolean> {
  const { publicClient } = await clients();
  return runTx("Revoke consent", publicClient, () => sendConsentTx("revoke", [c.purpose, c.scopeKind, c.scopeId, c.grantee]), refresh);
}

export async function revokeBySignature(c: ConsentArgs, refresh: () => unknown): Promise<boolean> {
  return bySignature("revoke", c, null, refresh);
}

/** EIP-712 Grant or Revoke signed in the wallet (no gas), then submitted by the relayer. */
async function bySignature(action: "grant" | "revoke", c: ConsentArgs, expiry: bigint | null, refresh: () => unknown): Promise<boolean> {
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
    refresh,
  );
}

// ---------------------------------------------------------------- the view

export async function renderCitizen(main: HTMLElement): Promise<void> {
  const title = h("h1", {}, "My data");
  if (!wallet.account || !onRightChain()) {
    clear(main, title, connectPanel());
    return;
  }
  const me = wallet.account;
  const consents = h("section", { "aria-labelledby": "consents-h", id: "consents" });
  const used = h("section", { "aria-labelledby": "used-h", id: "used" });
  const rights = h("section", { "aria-labelledby": "rights-h", id: "rights" });
  const refreshAll = async () => {
    await Promise.all([loadConsents(consents, me, refreshAll), loadUsed(used, me), loadRights(rights, me)]);
  };
  const form = await grantForm(refreshAll);
  // Replace the whole view at once: a wallet event may start a second render meanwhile,
  // and the last one to finish must win rather than both appending.
  clear(
    main,
    title,
    h("p", { class: "muted" }, "Connected as ", h("code", { class: "hash" }, me), ". Only this pseudonymous address is on the ledger."),
    consents,
    form,
    used,
    rights,
    rightsForm(refreshAll),
  );
  await refreshAll();
}

function connectPanel(): HTMLElement {
  const box = h("div", { class: "panel connect-panel" });
  if (!hasWallet()) {
    box.append(
      h("h2", {}, "No wallet found"),
      h("p", { role: "alert", id: "no-wallet" },
        "To manage your consent you need an Ethereum browser wallet (for example MetaMask or Rabby). Install one, then reload this page."),
      h("p", { class: "muted" }, "You can still browse the catalogue and verify files without a wallet."),
    );
  } else if (!wallet.account) {
    box.append(
      h("h2", {}, "Connect your wallet"),
      h("p", {}, "Your wallet address is your pseudonym here: consents, rights requests and data use are recorded under it, never your name."),
      h("button", { type: "button", class: "primary", onclick: () => connect() }, "Connect wallet"),
    );
  } else {
    box.append(
      h("h2", {}, "Wrong network"),
      h("p", { role: "alert", id: "wrong-chain" },
        `Your wallet is on network ${wallet.chainId}; CityLedger runs on network ${wallet.expectedChainId}.`),
      h("button", { type: "button", class: "primary", onclick: () => switchChain() }, "Switch to the CityLedger network"),
    );
  }
  if (wallet.error) box.append(errorBox(wallet.error));
  return box;
}

async function grantForm(refresh: () => Promise<void>): Promise<HTMLElement> {
  let list: Purpose[] = [];
  try {
    list = await purposes();
  } catch (e: any) {
    return errorBox(`Could not load the purposes: ${e.message}`);
  }
  const purpose = select("purpose", list.map((p) => [p.hash, p.label]), list.find((p) => p.name === "ScientificResearch")?.hash);
  const scopeKind = select("scope_kind", [["1", "One dataset"], ["2", "One publisher"], ["3", "A whole domain"]], "3");
  const datasetId = h("input", { type: "number", name: "dataset_id", min: "1", step: "1", inputmode: "numeric" });
  const publisher = h("input", { type: "text", name: "publisher", placeholder: "0x…", spellcheck: "false", autocomplete: "off" });
  const domain = select("domain", Object.entries(DOMAINS), "7");
  const fDataset = field("Dataset id", datasetId, "The number shown on the dataset's page");
  const fPublisher = field("Publisher address", publisher);
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
  const fGrantee = field("Grantee address", granteeAddr);
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
  const message = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "Grant consent");

  const form = h(
    "form",
    { class: "panel", id: "grant-form", "aria-labelledby": "grant-h" },
    h("h2", { id: "grant-h" }, "Grant consent"),
    field("Purpose", purpose, "From the W3C Data Privacy Vocabulary"),
    field("Scope", scopeKind),
    fDataset, fPublisher, fDomain,
    h("fieldset", {}, h("legend", {}, "Who may use it"),
      h("div", { class: "radio" }, anyR, h("label", { for: anyR.id }, "Any accredited researcher")),
      h("div", { class: "radio" }, oneR, h("label", { for: oneR.id }, "One specific address")),
      fGrantee),
    field("Valid until", expiry),
    h("fieldset", {}, h("legend", {}, "How to submit"),
      h("div", { class: "radio" }, bySig, h("label", { for: bySig.id }, "Free: sign a message, the city's relayer submits it")),
      h("div", { class: "radio" }, byTx, h("label", { for: byTx.id }, "Transaction from my wallet (I pay the gas)"))),
    message,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.replaceChildren();
    let args: ConsentArgs;
    let exp: bigint;
    try {
      const kind = Number(scopeKind.value);
      const value = kind === SCOPE_DATASET ? datasetId.value : kind === SCOPE_PUBLISHER ? publisher.value.trim() : domain.value;
      let grantee: Address = ANY_RESEARCHER;
      if (oneR.checked) {
        if (!isAddress(granteeAddr.value.trim())) throw new Error("The grantee must be a 0x address (42 characters).");
        grantee = getAddress(granteeAddr.value.trim());
      }
      if (!expiry.value) throw new Error("Choose until when the consent is valid.");
      exp = BigInt(endOfDay(expiry.value));
      if (exp <= BigInt(Math.floor(Date.now() / 1000))) throw new Error("The expiry must be in the future.");
      args = { purpose: purpose.value as Hex, scopeKind: kind, scopeId: scopeIdOf(kind, value), grantee };
    } catch (e: any) {
      message.replaceChildren(errorBox(e.message));
      return;
    }
    submit.disabled = true;
    try {
      await (bySig.checked ? grantBySignature(args, exp, refresh) : grantByTx(args, exp, refresh));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function loadConsents(section: HTMLElement, me: Address, refresh: () => Promise<void>, state = "all"): Promise<void> {
  const filter = select("state", [["all", "All"], ["active", "Active"], ["expired", "Expired"], ["revoked", "Revoked"]], state);
  filter.addEventListener("change", () => loadConsents(section, me, refresh, filter.value));
  const head = h("div", { class: "section-head" }, h("h2", { id: "consents-h" }, "My consents"), field("Show", filter));
  clear(section, head, loading("your consents"));
  let rows: any[];
  try {
    rows = items(await api(`/api/citizens/${me}/consents?state=${state}&page_size=100`));
  } catch (e: any) {
    clear(section, head, errorBox(`Could not load your consents: ${e.message}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, h("p", { class: "muted" }, state === "all" ? "You have not granted any consent yet." : `No ${state} consent.`));
    return;
  }
  const labels = await Promise.all(rows.map((r) => purposeLabel(r.purpose)));
  const list = h("ul", { class: "cards consents" });
  rows.forEach((r, i) => {
    const kind = r.scope_kind_code ?? codeOf(r.scope_kind, SCOPE_CODES);
    const st: string = r.state ?? (r.active ? "active" : "expired");
    const args: ConsentArgs = { purpose: r.purpose, scopeKind: kind, scopeId: r.scope_id, grantee: r.grantee ?? ANY_RESEARCHER };
    const actions = h("div", { class: "actions" });
    if (st === "active") {
      const b1 = h("button", { type: "button" }, "Revoke (free, signature)");
      const b2 = h("button", { type: "button" }, "Revoke (transaction)");
      b1.setAttribute("aria-label", `Revoke consent for ${labels[i]} by signature`);
      b2.setAttribute("aria-label", `Revoke consent for ${labels[i]} by transaction`);
      const go = (fn: () => Promise<boolean>) => async () => {
        b1.disabled = b2.disabled = true;
        const ok = await fn();
        if (!ok) b1.disabled = b2.disabled = false;
      };
      b1.addEventListener("click", go(() => revokeBySignature(args, refresh)));
      b2.addEventListener("click", go(() => revokeByTx(args, refresh)));
      actions.append(b1, b2);
    }
    list.append(
      h("li", { class: "card consent", "data-state": st },
        h("h3", {}, labels[i], " ", h("span", { class: `badge badge-${st}` }, st)),
        h("p", { class: "meta" },
          describeScope(kind, r.scope_id), " · ", describeGrantee(r.grantee),
          " · ", st === "revoked" ? "revoked" : `${st === "expired" ? "expired" : "until"} ${fmtTime(r.expiry)}`,
          r.submitted_by && r.submitted_by.toLowerCase() !== me.toLowerCase() ? " · submitted by the relayer" : ""),
        actions),
    );
  });
  clear(section, head, list);
}

async function loadUsed(section: HTMLElement, me: Address): Promise<void> {
  const head = h("h2", { id: "used-h" }, "Who used my data");
  clear(section, head, loading("data releases"));
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
  const labels = await Promise.all(rows.map((r) => purposeLabel(r.purpose)));
  const list = h("ul", { class: "cards" });
  rows.forEach((r, i) => {
    // The proof is checked here, against the root logged on chain: the page need not trust the server.
    const proof: Hex[] = r.proof ?? r.merkle_proof ?? [];
    const root: Hex = r.consent_root;
    const ok = !!root && verifyInclusion(me, proof, root);
    list.append(
      h("li", { class: "card", "data-verified": String(ok) },
        h("h3", {}, `Release ${r.release_id ?? r.id}`, " · ", labels[i]),
        h("p", { class: "meta" },
          r.dataset_id ? h("a", { href: `#/dataset/${r.dataset_id}` }, `Dataset ${r.dataset_id}`) : "",
          " · to ", describeGrantee(r.grantee),
          ` · ${r.subject_count ?? "?"} people · consent snapshot at block ${r.snapshot_block ?? "?"}`),
        h("p", { class: ok ? "ok" : "error" },
          ok ? "✔ Proof checked in this page: you were in the consent snapshot (root "
             : "✘ The proof does not match the root logged on chain (root ",
          hashCode(root), ")."),
      ),
    );
  });
  clear(section, head, list);
}

function rightsForm(refresh: () => Promise<void>): HTMLElement {
  const kind = select("kind", Object.entries(RIGHTS_KINDS), "1");
  const targetKind = select("target_kind", [["1", "A publisher"], ["2", "A dataset"]], "2");
  const target = h("input", { type: "text", name: "target", required: true, spellcheck: "false", autocomplete: "off" });
  const targetField = field("Dataset id", target, "The dataset's number, or the publisher's 0x address");
  const syncTarget = () => {
    targetField.querySelector("label")!.textContent = targetKind.value === "1" ? "Publisher address" : "Dataset id";
    target.placeholder = targetKind.value === "1" ? "0x…" : "e.g. 3";
    target.inputMode = targetKind.value === "1" ? "text" : "numeric";
  };
  targetKind.addEventListener("change", syncTarget);
  syncTarget();
  const details = h("textarea", { name: "details", rows: 3, required: true });
  const message = h("div", { "aria-live": "polite" });
  const submit = h("button", { type: "submit", class: "primary" }, "File the request");
  const form = h(
    "form",
    { class: "panel", id: "rights-form", "aria-labelledby": "rights-form-h" },
    h("h2", { id: "rights-form-h" }, "File a rights request"),
    field("Right", kind),
    field("Against", targetKind),
    targetField,
    field("Details for the publisher", details,
      "Only a salted hash goes on chain. Keep the receipt you get: it proves what you asked."),
    message,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.replaceChildren();
    let args: [number, number, Hex, Hex];
    let receipt: Record<string, string>;
    try {
      const tk = Number(targetKind.value);
      const t = target.value.trim();
      let targetId: Hex;
      if (tk === TARGET_PUBLISHER) {
        targetId = publisherId(t);
      } else {
        if (!/^\d+$/.test(t) || BigInt(t) < 1n) throw new Error("The dataset id must be a positive whole number.");
        targetId = pad(toHex(BigInt(t)));
      }
      const text = details.value.trim();
      if (!text) throw new Error("Describe your request for the publisher.");
      // Salted so the hash cannot be guessed from a short text; the receipt keeps salt and text.
      const salt = toHex(crypto.getRandomValues(new Uint8Array(32)));
      const detailsHash = keccak256(concat([salt, toHex(text)]));
      args = [Number(kind.value), tk, targetId, detailsHash];
      receipt = { kind: RIGHTS_KINDS[Number(kind.value)], target: t, details: text, salt, details_hash: detailsHash };
    } catch (e: any) {
      message.replaceChildren(errorBox(e.message));
      return;
    }
    submit.disabled = true;
    try {
      const { publicClient, walletClient, account } = await clients();
      const { address, abi } = await contractInfo("RightsRegistry");
      const ok = await runTx("File rights request", publicClient, async () => {
        const { request } = await publicClient.simulateContract({ address, abi, functionName: "file_request", args, account });
        return walletClient.writeContract(request as any);
      }, refresh);
      if (ok) {
        const blob = new Blob([JSON.stringify(receipt, null, 2)], { type: "application/json" });
        message.replaceChildren(
          h("p", { class: "ok" }, "Filed. ",
            h("a", { href: URL.createObjectURL(blob), download: `rights-request-${receipt.details_hash.slice(2, 10)}.json` }, "Download your receipt"),
            " (details and salt: keep it)."),
        );
        details.value = "";
      }
    } catch (e: any) {
      message.replaceChildren(errorBox(e.message));
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

async function loadRights(section: HTMLElement, me: Address): Promise<void> {
  const head = h("h2", { id: "rights-h" }, "My rights requests");
  clear(section, head, loading("your rights requests"));
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
  const now = Date.now() / 1000;
  const list = h("ul", { class: "cards" });
  for (const r of rows) {
    const status = RIGHTS_STATUS[codeOf(r.status, { open: 1, fulfilled: 2, refused: 3, withdrawn: 4 })] ?? String(r.status);
    const kindName = RIGHTS_KINDS[codeOf(r.kind, { access: 1, rectification: 2, erasure: 3, portability: 4, restriction: 5, objection: 6 })] ?? String(r.kind);
    const deadline = Number(r.deadline);
    const overdue = r.overdue ?? (status === "Open" && deadline < now);
    const tk = codeOf(r.target_kind, { publisher: 1, dataset: 2 });
    const target = tk === TARGET_DATASET
      ? h("a", { href: `#/dataset/${BigInt(r.target)}` }, `dataset ${BigInt(r.target)}`)
      : `publisher ${shortHex(r.publisher ?? `0x${String(r.target).slice(-40)}`)}`;
    const days = Math.ceil((deadline - now) / 86400);
    list.append(
      h("li", { class: "card", "data-status": status.toLowerCase() },
        h("h3", {}, `${kindName} request #${r.request_id ?? r.id}`, " ",
          h("span", { class: `badge badge-${overdue ? "overdue" : status.toLowerCase()}` }, overdue ? "Overdue" : status)),
        h("p", { class: "meta" }, "Against ", target, ` · filed in block ${r.filed_block ?? "?"}`),
        status === "Open"
          ? h("p", {}, `Answer due by ${fmtTime(deadline)}`, overdue ? " — the deadline has passed." : ` (${days} day${days === 1 ? "" : "s"} left).`)
          : h("p", {}, status, r.late ? " (answered late)" : "",
              r.answer_hash ? h("span", {}, " · answer hash ", hashCode(r.answer_hash)) : ""),
      ),
    );
  }
  clear(section, head, list);
}

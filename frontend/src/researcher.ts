// The data room, for researchers and businesses: sign in with the wallet (EIP-4361); my access
// grants with their expiry; a consent-filtered release under a live grant, downloaded through its
// short-lived link and checked against the hash on the ledger; my deletion obligations, confirmed
// on chain from the wallet; private questions answered with differential privacy from the grant's
// privacy budget (private.ts); my delivery history; open datasets to download; request access.
// Each action says what it does before anything is asked of the wallet.
import { type Hex } from "viem";
import "./researcher.css";
import { ApiError, allPages, api, contractInfo, datasetBrief, items, purposeLabel, purposes, type DatasetBrief, type Purpose } from "./api";
import { messageArea } from "./citizen";
import { clear, details, disclosure, errorBox, field, fmtDate, fmtTime, h, hashCode, loading, nextId, select, shortHex, userText } from "./dom";
import { loadNames, orgLabel, orgWords } from "./names";
import { comparison, declaredColumns, privateQueryForm, type Declaration } from "./private";
import { roomApi, roomErrorMessage, roomFile, session, loadSession, signIn, signOut, takeEndReason, type Session } from "./siwe";
import { runTx, type TxOptions } from "./tx";
import { sha256Hex } from "./verify";
import { clients, connect, hasWallet, networkName, onRightChain, switchChain, wallet } from "./wallet";

const RESEARCH_ROLES = ["researcher", "publisher"];

// The contracts' refusals a researcher can meet (docs/CONTRACTS.md), in plain words.
const REFUSALS: Record<string, string> = {
  "access: caller is not a researcher or publisher": "Your account holds no researcher or publisher role on CityLedger, so it cannot ask for access. The city accredits researchers.",
  "access: dataset is not active": "That dataset is not available any more (withdrawn or replaced by a newer version): ask for access to its current version.",
  "access: empty purpose": "Choose what you will use the data for.",
  "deletion: caller is not the recipient": "Only the organisation that received the release can confirm this deletion: your wallet shows another account.",
  "deletion: obligation is not open": "This deletion has already been confirmed.",
  "deletion: unknown obligation": "There is no such deletion obligation on the ledger.",
  "deletion: empty evidence hash": "Write your deletion record first.",
};

function plainWords(message: string): string {
  const known = Object.keys(REFUSALS).find((r) => message.includes(r));
  return known ? REFUSALS[known] : message;
}

function fmtBytes(n: number): string {
  if (n < 1024) return `${n} bytes`;
  const units = ["KB", "MB", "GB"];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toLocaleString(undefined, { maximumFractionDigits: 1 })} ${units[i]}`;
}

/** A dataset as plain text (for labels and the deletion record). */
function datasetWords(id: number, brief: DatasetBrief | null): string {
  return brief?.title ? `'${brief.title}' (dataset #${id})` : `dataset #${id}`;
}

type Part = Node | string;

/** A dataset in a sentence or heading: the publisher's title isolated in its own direction (a
 *  right-to-left override in it cannot reorder the number or the rest of the sentence). */
function datasetLabel(id: number, brief: DatasetBrief | null): Part[] {
  return brief?.title ? ["'", userText(brief.title), `' (dataset #${id})`] : [`dataset #${id}`];
}

/** After an action and its refresh, focus goes to what changed (never to <body>). */
let focusAfterRefresh: string | null = null;
function focusChanged(): void {
  const id = focusAfterRefresh;
  focusAfterRefresh = null;
  reveal(id ? document.getElementById(id) : null);
}

/** Focus an element (focusable for the purpose) and bring it to the middle of the screen. */
function reveal(el: HTMLElement | null): void {
  if (!el) return;
  if (!el.hasAttribute("tabindex")) el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: true });
  el.scrollIntoView({ block: "center" });
}

let sessionChecked = false;

export async function renderResearcher(main: HTMLElement): Promise<void> {
  const title = h("h1", {}, "Data room");
  const intro = h("p", { class: "lead" },
    "Researchers and businesses receive data here, only as the city's records allow: personal data only under a live access grant, "
    + "and only the rows of people who consent. Open datasets anyone can download.");
  if (!sessionChecked) {
    await loadSession().catch(() => null);
    sessionChecked = true;
  }
  const s = session();
  const open = h("section", { "aria-labelledby": "open-h", id: "open-data" });
  if (!s) {
    clear(main, title, intro, await signInPanel(), open);
    await loadOpen(open);
    return;
  }
  const me = s.address.toLowerCase();
  const grants = h("section", { "aria-labelledby": "grants-h", id: "grants" });
  const obligations = h("section", { "aria-labelledby": "obligations-h", id: "obligations" });
  const deliveries = h("section", { "aria-labelledby": "deliveries-h", id: "deliveries" });
  // A download changes only the delivery history: the card that shows its outcome stays.
  const delivered = () => loadDeliveries(deliveries, me);
  const refreshAll = async () => {
    const mine = await myReleases(me);
    await Promise.all([
      loadGrants(grants, s, mine, delivered),
      loadObligations(obligations, me, mine, refreshAll),
      loadDeliveries(deliveries, me),
    ]);
    focusChanged();
  };
  const form = await accessForm(s, refreshAll);
  clear(main, title, intro, await accountPanel(s), grants, obligations, deliveries, open, form);
  await Promise.all([refreshAll(), loadOpen(open)]);
}

// ---------------------------------------------------------------- sign-in

async function signInPanel(): Promise<HTMLElement> {
  const box = h("div", { class: "panel", id: "signin" }, h("h2", {}, "Sign in with your wallet"));
  const reason = takeEndReason();
  if (reason) box.append(h("p", { class: "error", role: "alert", id: "session-ended" }, reason));
  if (!hasWallet()) {
    box.append(
      h("p", {}, "To receive data you need a browser wallet holding your organisation's account (for example ",
        h("a", { href: "https://metamask.io/", rel: "noopener noreferrer" }, "MetaMask"), " or ",
        h("a", { href: "https://rabby.io/", rel: "noopener noreferrer" }, "Rabby"), "), then reload this page."),
    );
    return box;
  }
  if (!wallet.account) {
    box.append(
      h("p", {}, "First connect the wallet that holds your organisation's account."),
      h("button", { type: "button", class: "primary", onclick: () => connect() }, "Connect wallet"),
    );
    if (wallet.error) box.append(errorBox(wallet.error));
    return box;
  }
  if (!onRightChain()) {
    const name = await networkName().catch(() => "the CityLedger network");
    box.append(
      h("p", { role: "alert" }, `Your wallet is connected to another network than ${name}. Switch it first; this costs nothing.`),
      h("button", { type: "button", class: "primary", onclick: () => switchChain() }, `Switch to ${name}`),
    );
    return box;
  }
  await loadNames([wallet.account]);
  const message = h("div", { class: "form-message", id: "signin-message" });
  const button = h("button", { type: "button", class: "primary", id: "signin-button" }, "Sign in");
  button.addEventListener("click", async () => {
    button.disabled = true;
    message.replaceChildren(h("p", { class: "muted" }, "Waiting for your signature in the wallet…"));
    try {
      await signIn(); // the session change re-renders the page
    } catch (e) {
      message.replaceChildren(errorBox(roomErrorMessage(e)));
      button.disabled = false;
      button.focus();
    }
  });
  box.append(
    h("p", { class: "sentence", id: "signin-sentence" },
      "Signing in proves to CityLedger that you hold the account ", orgLabel(wallet.account),
      ". Your wallet shows a short sign-in message from this site; signing it is not a transaction and costs nothing. "
      + "You stay signed in for a short time only (the page shows until when)."),
    message,
    button,
  );
  return box;
}

async function accountPanel(s: Session): Promise<HTMLElement> {
  await loadNames([s.address]);
  const roles = s.roles.length ? s.roles.join(", ") : "no role";
  const out = h("button", { type: "button", id: "signout-button" }, "Sign out");
  const message = h("div", { class: "form-message" });
  out.addEventListener("click", async () => {
    out.disabled = true;
    try {
      await signOut();
    } catch (e) {
      message.replaceChildren(errorBox(roomErrorMessage(e)));
      out.disabled = false;
    }
  });
  const box = h("div", { class: "panel account-panel", id: "account" },
    h("p", {}, "Signed in as ", orgLabel(s.address), ` (${roles}) until ${fmtTime(s.expires_at)}.`),
    out, message);
  if (wallet.account && wallet.account.toLowerCase() !== s.address.toLowerCase()) {
    box.append(h("p", { class: "error", role: "alert", id: "wallet-mismatch" },
      `Your wallet now shows another account (${shortHex(wallet.account)}). Requests and confirmations on the ledger come from your wallet: switch it back, or sign out and sign in with it.`));
  }
  if (!s.roles.some((r) => RESEARCH_ROLES.includes(r))) {
    box.append(h("p", { class: "muted" }, "This account holds no researcher or publisher role on CityLedger: it cannot ask for access to data. You can still download open datasets."));
  }
  return box;
}

// ---------------------------------------------------------------- grants and releases

async function myReleases(me: string): Promise<any[]> {
  return allPages(`/api/releases?grantee=${me}`).catch(() => []);
}

/** The grant's state for people: a badge and one sentence. */
function grantWords(a: any, brief: DatasetBrief | null, purpose: string): { badge: string; sentence: Part[] } {
  const who = brief?.publisher ? orgWords(brief.publisher, true) : "The publisher";
  const what = datasetLabel(a.dataset_id, brief);
  const use = purpose.toLowerCase();
  const now = Date.now() / 1000;
  switch (a.status) {
    case "granted":
      if (a.live) return { badge: "live", sentence: [`${who} lets you use `, ...what, ` for ${use} until ${fmtDate(a.expiry)}.`] };
      if (a.expiry && Number(a.expiry) <= now) return { badge: "expired", sentence: ["Your access to ", ...what, ` ended on ${fmtDate(a.expiry)}. Ask again to receive more data.`] };
      return { badge: "suspended", sentence: ["Your access to ", ...what, " cannot be used now: you or the publisher no longer hold the role it was granted under."] };
    case "requested":
      return { badge: "requested", sentence: [`You asked ${brief?.publisher ? orgWords(brief.publisher) : "the publisher"} for `, ...what, `, for ${use}. Waiting for its answer.`] };
    case "refused":
      return { badge: "refused", sentence: [`${who} refused your request for `, ...what, "."] };
    case "ended":
      return { badge: "ended", sentence: [`${who} ended your access to `, ...what, "."] };
    default:
      return { badge: "cancelled", sentence: ["You withdrew your request for ", ...what, "."] };
  }
}

async function loadGrants(section: HTMLElement, s: Session, releases: any[], delivered: () => Promise<void>): Promise<void> {
  const head = h("h2", { id: "grants-h" }, "My access");
  if (!section.childElementCount) clear(section, head, loading("your access grants"));
  let rows: any[];
  try {
    rows = await allPages(`/api/access?grantee=${s.address.toLowerCase()}`);
  } catch (e) {
    clear(section, head, errorBox(`Could not load your access grants: ${roomErrorMessage(e)}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, h("p", { class: "muted" }, "You have no access grant yet. Ask for one below."));
    return;
  }
  rows.sort((a, b) => b.access_id - a.access_id);
  const [briefs, labels] = await Promise.all([
    Promise.all(rows.map((a) => datasetBrief(a.dataset_id))),
    Promise.all(rows.map((a) => purposeLabel(a.purpose))),
  ]);
  await loadNames(briefs.map((b) => b?.publisher));
  // Personal or not, and the columns its publisher declared for private questions (docs/PRIVACY.md).
  const info = await Promise.all(rows.map((a) => api(`/api/datasets/${a.dataset_id}`).then(
    (d) => ({ personal: !!d.personal_data, declared: declaredColumns(d.metadata) }),
    () => ({ personal: true, declared: null }))));
  const list = h("ul", { class: "cards" });
  rows.forEach((a, i) => list.append(grantCard(a, briefs[i], labels[i], info[i].personal, info[i].declared, releases.filter((r) => r.access_id === a.access_id), delivered)));
  clear(section, head, list);
}

function grantCard(a: any, brief: DatasetBrief | null, purpose: string, personal: boolean, declared: Declaration | null, releases: any[], delivered: () => Promise<void>): HTMLElement {
  const { badge, sentence } = grantWords(a, brief, purpose);
  const titleId = nextId("grant-title");
  const message = h("div", { class: "form-message", "aria-live": "polite" });
  const body: (Node | string)[] = [
    h("h3", { id: titleId }, ...datasetLabel(a.dataset_id, brief)),
    h("p", {}, h("span", { class: `badge badge-${badge}` }, badge), " ", brief?.publisher ? orgLabel(brief.publisher) : ""),
    h("p", { class: "sentence grant-sentence" }, ...sentence),
  ];
  const facts: [string, Node | string][] = [
    ["Purpose", purpose],
    [a.status === "granted" ? "Valid until" : "Status", a.status === "granted" ? fmtDate(a.expiry) : badge],
  ];
  body.push(h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])));
  if (a.live && personal) {
    const go = h("button", { type: "button", class: "primary", id: nextId("release"), "aria-describedby": `${titleId}` }, "Get a release of the data");
    go.addEventListener("click", async () => {
      go.disabled = true;
      message.replaceChildren(h("p", { class: "muted" }, "Making the release: checking every consent and recording it on the ledger…"));
      try {
        const rel = await roomApi(`/api/access/${a.access_id}/releases`, { method: "POST", headers: { "content-type": "application/json" }, body: "{}" });
        const done = h("div", { class: "release-made", id: `release-${rel.release_id}-made`, tabindex: "-1" },
          h("p", { class: "ok" },
            `Release #${rel.release_id} is ready: ${rel.rows_out} of ${rel.rows_in} rows, from the ${rel.subject_count} ${rel.subject_count === 1 ? "person" : "people"} whose consent covers your use. `
            + "It is recorded on the ledger."),
          downloadButton(rel.release_id, rel.release_hash, rel.link.url, delivered),
          h("p", { class: "hint" }, `The download link works until ${fmtTime(rel.link.expires_at)}, only in this browser while you are signed in.`));
        const compared = comparison(rel.representativeness);
        if (compared) {
          done.append(h("div", { class: "representativeness" },
            h("h4", {}, "Whom this release describes"),
            h("p", {}, "Only people who consent are in it, and they can differ from everyone in the dataset. Compared with all its rows (counted with noise, once):"),
            compared));
        }
        message.replaceChildren(done);
        done.focus();
      } catch (e) {
        message.replaceChildren(errorBox(roomErrorMessage(e)));
      } finally {
        go.disabled = false;
      }
    });
    body.push(
      h("p", { class: "explain" },
        "The data room makes a copy of ", ...datasetLabel(a.dataset_id, brief),
        ` with only the rows of people whose consent covers ${purpose.toLowerCase()} by you, `
        + "as the ledger stands now; records the release on the ledger (for the publisher, not in your name); and gives you a download link valid for 5 minutes. "
        + "Your wallet is not asked and it costs you nothing. The people in it can see that you received their data."),
      h("div", { class: "actions" }, go),
    );
  } else if (a.live) {
    body.push(h("div", { class: "actions" }, openDownload(a.dataset_id, brief)));
  }
  if (releases.length) {
    const list = h("ul", { class: "plain releases" });
    for (const r of releases.sort((x, y) => y.release_id - x.release_id)) {
      list.append(h("li", {},
        `Release #${r.release_id}, ${fmtDate(r.timestamp)}: ${r.subject_count} ${r.subject_count === 1 ? "person" : "people"}. `,
        downloadButton(r.release_id, r.release_hash, null, delivered)));
    }
    body.push(h("h4", {}, "Releases you received"), list);
  }
  body.push(message);
  if (a.live && personal && declared) body.push(privateQueryForm(a.access_id, declared));
  return h("li", { class: "card grant", id: `access-${a.access_id}`, "data-status": a.status, "data-live": String(!!a.live), "aria-labelledby": titleId }, ...body);
}

/** Fetch a release file through its link (or a new one), check its SHA-256 against the release hash
 *  on the ledger, then save it. Nothing is saved when the bytes are not the logged ones. */
function downloadButton(releaseId: number, releaseHash: string, link: string | null, delivered: () => Promise<void>): HTMLElement {
  const id = nextId("dl");
  const button = h("button", { type: "button", id, class: "download-release", "data-release": String(releaseId) }, `Download release #${releaseId}`);
  const message = h("span", { class: "download-message", "aria-live": "polite" });
  let url = link;
  button.addEventListener("click", async () => {
    button.disabled = true;
    message.replaceChildren(" Downloading…");
    try {
      url ??= (await roomApi(`/api/releases/${releaseId}/links`, { method: "POST" })).url as string;
      const link = url!;
      url = null; // a link may expire or fail: the next click asks for a fresh one
      const res = await roomFile(link);
      const buf = await res.arrayBuffer();
      const hash = await sha256Hex(buf);
      if (hash.toLowerCase() !== releaseHash.toLowerCase()) {
        message.replaceChildren(errorBox("The file received does not match the release recorded on the ledger: it was not saved. Try again, or tell the publisher."));
        return;
      }
      const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `release-${releaseId}.csv`;
      save(buf, name, res.headers.get("content-type") ?? "text/csv");
      message.replaceChildren(h("span", { class: "ok" }, ` Saved ${name} (${fmtBytes(buf.byteLength)}). ✔ Its SHA-256 matches the release recorded on the ledger.`));
      await delivered();
    } catch (e) {
      const notHere = e instanceof ApiError && e.status === 404;
      message.replaceChildren(errorBox(notHere ? "This release was not made by this data room, so it cannot be downloaded here: ask its publisher." : roomErrorMessage(e)));
    } finally {
      button.disabled = false;
    }
  });
  return h("span", { class: "download" }, button, message);
}

function save(buf: ArrayBuffer, name: string, type: string): void {
  const href = URL.createObjectURL(new Blob([buf], { type }));
  const a = h("a", { href, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

function openDownload(id: number, brief: DatasetBrief | null, size?: number | null): HTMLElement {
  return h("a", { class: "button", href: `/api/datasets/${id}/download`, download: "", "aria-label": `Download ${datasetWords(id, brief)}` },
    size ? `Download (${fmtBytes(size)})` : "Download");
}

// ---------------------------------------------------------------- deletion obligations

function obligationBadge(o: any): string {
  if (o.status === "open") return o.overdue ? "overdue" : "open";
  return o.status === "confirmed late" ? "confirmed-late" : "confirmed";
}

async function loadObligations(section: HTMLElement, me: string, releases: any[], refresh: () => Promise<void>): Promise<void> {
  const head = h("h2", { id: "obligations-h" }, "Deletions I must make");
  const explain = h("p", { class: "muted" },
    "When someone in a release you received withdraws their consent or asks for erasure, you must delete their rows within 30 days and confirm it on the ledger. Everyone can see the deadline.");
  if (!section.childElementCount) clear(section, head, explain, loading("your deletion obligations"));
  let rows: any[];
  try {
    rows = await allPages(`/api/obligations?recipient=${me}`);
  } catch (e) {
    clear(section, head, explain, errorBox(`Could not load your deletion obligations: ${roomErrorMessage(e)}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, explain, h("p", { class: "muted" }, "You have no deletion to make."));
    return;
  }
  // Open ones first (overdue first of all), then by deadline.
  const rank = (o: any) => (o.status === "open" ? (o.overdue ? 0 : 1) : 2);
  rows.sort((a, b) => rank(a) - rank(b) || a.deadline - b.deadline);
  const datasetOf = new Map(releases.map((r) => [r.release_id, r.dataset_id]));
  const briefs = new Map<number, DatasetBrief | null>();
  await Promise.all([...new Set(datasetOf.values())].map(async (d) => briefs.set(d, await datasetBrief(d))));
  await loadNames(rows.map((o) => o.requested_by));
  const list = h("ul", { class: "cards" });
  for (const o of rows) {
    const d = datasetOf.get(o.release_id);
    list.append(obligationCard(o, d ?? null, d ? briefs.get(d) ?? null : null, refresh));
  }
  clear(section, head, explain, list);
}

function deletionRecord(o: any, what: string | null): string {
  return `Deletion record\nI deleted every row about ${o.subject} received in release #${o.release_id}${what ? ` of ${what}` : ""} from every copy we hold.\n`
    + `Obligation #${o.obligation_id}. Date: ${new Date().toISOString().slice(0, 10)}.\n`;
}

function obligationCard(o: any, datasetId: number | null, brief: DatasetBrief | null, refresh: () => Promise<void>): HTMLElement {
  const badge = obligationBadge(o);
  const titleId = nextId("obligation-title");
  const cardId = `obligation-${o.obligation_id}`;
  const subject = h("code", { class: "hash", title: o.subject }, shortHex(o.subject));
  const status =
    o.status === "open"
      ? o.overdue
        ? `Overdue: the deadline was ${fmtDate(o.deadline)}. Delete the rows and confirm now.`
        : `Delete the rows and confirm by ${fmtDate(o.deadline)} (${Math.max(0, Math.ceil((o.deadline - Date.now() / 1000) / 86400))} days left).`
      : `Confirmed on ${fmtDate(o.confirmed_at)}${o.status === "confirmed late" ? ", after the deadline" : ""}.`;
  const body: (Node | string)[] = [
    h("h3", { id: titleId }, "Delete the rows of person ", subject, ` from release #${o.release_id}`),
    h("p", {}, h("span", { class: `badge badge-${badge}` }, badge.replace("-", " "))),
    h("p", { class: "sentence obligation-sentence" },
      datasetId ? ["In ", ...datasetLabel(datasetId, brief), ": "] : "", "this person (a pseudonymous address) no longer allows your use. ",
      orgLabel(o.requested_by), ` asked on ${fmtDate(o.requested_at)}. ${status}`),
  ];
  if (o.status === "open") {
    const formId = nextId("confirm");
    const toggle = h("button", { type: "button", "aria-expanded": "false", "aria-controls": formId, id: nextId("toggle") }, "Confirm deletion…");
    toggle.setAttribute("aria-labelledby", `${toggle.id} ${titleId}`);
    const record = h("textarea", { name: "record", rows: 4 }, deletionRecord(o, datasetId ? datasetWords(datasetId, brief) : null));
    const send = h("button", { type: "submit", class: "primary" }, "Confirm on the ledger");
    const keep = h("button", { type: "button", class: "link" }, "Not yet");
    const form = h("form", { class: "confirm", id: formId, hidden: true, novalidate: true },
      field("Your deletion record", record, "Kept by you, not sent anywhere: only its SHA-256 fingerprint goes on the ledger, so you can later prove what you confirmed."),
      h("p", { class: "sentence" },
        `You confirm on the ledger, for everyone to see, that you deleted every row of this person from release #${o.release_id}. `
        + "Your wallet sends a transaction; you pay a small network fee."));
    const message = messageArea(form);
    const saveRecord = h("button", { type: "button" }, "Save my record");
    saveRecord.addEventListener("click", () => save(new TextEncoder().encode(record.value).buffer as ArrayBuffer, `deletion-${o.obligation_id}.txt`, "text/plain"));
    form.append(message.el, h("div", { class: "actions" }, send, saveRecord, keep));
    disclosure(toggle, form, record, keep);
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      if (!record.value.trim()) {
        message.error("Write what you deleted: its fingerprint is your evidence.", record);
        return;
      }
      send.disabled = true;
      const evidence = await sha256Hex(new TextEncoder().encode(record.value).buffer as ArrayBuffer);
      focusAfterRefresh = cardId;
      const ok = await chainTx("Confirm deletion", "DeletionRegistry", "confirm_deletion", [BigInt(o.obligation_id), evidence], {
        refresh,
        onFail: (m) => message.error(plainWords(m)),
      });
      if (!ok) focusAfterRefresh = null;
      send.disabled = false;
    });
    body.push(h("div", { class: "actions" }, toggle), form);
  } else {
    body.push(details("Technical details",
      h("p", {}, `Obligation #${o.obligation_id}, confirmed in block ${o.confirmed_block}.`),
      h("p", {}, "Fingerprint of the deletion record: ", hashCode(o.evidence_hash))));
  }
  return h("li", { class: "card obligation", id: cardId, tabindex: "-1", "data-status": badge, "aria-labelledby": titleId }, ...body);
}

/** A transaction from the wallet: simulated first (a refusal shows its reason before the wallet is
 *  asked), then followed in the transactions panel until the index has it. */
async function chainTx(label: string, contract: string, functionName: string, args: readonly unknown[], opts: TxOptions): Promise<boolean> {
  const s = session();
  if (s && wallet.account && wallet.account.toLowerCase() !== s.address.toLowerCase()) {
    opts.onFail?.(`Your wallet shows another account (${shortHex(wallet.account)}) than the one signed in: switch it back first.`);
    return false;
  }
  let publicClient;
  try {
    publicClient = (await clients()).publicClient;
  } catch (e: any) {
    opts.onFail?.(e.message);
    return false;
  }
  return runTx(label, publicClient, async () => {
    const { walletClient, account } = await clients();
    const { address, abi } = await contractInfo(contract);
    const { request } = await publicClient.simulateContract({ address, abi, functionName, args, account } as any);
    return walletClient.writeContract(request as any);
  }, opts);
}

// ---------------------------------------------------------------- deliveries

async function loadDeliveries(section: HTMLElement, me: string): Promise<void> {
  const head = h("h2", { id: "deliveries-h" }, "What I received");
  if (!section.childElementCount) clear(section, head, loading("your deliveries"));
  let rows: any[];
  try {
    rows = items(await api(`/api/deliveries?recipient=${me}&page_size=100`));
  } catch (e) {
    clear(section, head, errorBox(`Could not load your deliveries: ${roomErrorMessage(e)}`));
    return;
  }
  if (!rows.length) {
    clear(section, head, h("p", { class: "muted" }, "The data room has not delivered any file to you yet."));
    return;
  }
  const briefs = new Map<number, DatasetBrief | null>();
  await Promise.all([...new Set(rows.map((r) => r.dataset_id))].map(async (d) => briefs.set(d, await datasetBrief(d))));
  const list = h("ul", { class: "cards deliveries" });
  for (const r of rows) {
    list.append(h("li", { class: "card delivery", "data-release": String(r.release_id) },
      h("p", {}, h("strong", {}, fmtTime(r.delivered_at)), ` · release #${r.release_id} of `, ...datasetLabel(r.dataset_id, briefs.get(r.dataset_id) ?? null),
        ` · ${fmtBytes(r.bytes)}`),
      details("Technical details",
        h("p", {}, `Delivery #${r.delivery_id}, access #${r.access_id}.`),
        h("p", {}, "SHA-256 of the file served: ", h("code", { class: "hash delivery-sha256", title: r.sha256 }, shortHex(r.sha256, 8))))));
  }
  clear(section, head, h("p", { class: "muted" }, "Each file the data room served you is recorded, and the people in it can see it."), list);
}

// ---------------------------------------------------------------- open datasets

async function loadOpen(section: HTMLElement): Promise<void> {
  const head = h("h2", { id: "open-h" }, "Open data: download");
  if (!section.childElementCount) clear(section, head, loading("open datasets"));
  let rows: any[];
  try {
    rows = items(await api("/api/datasets?status=active&page_size=50")).filter((d) => !d.personal_data);
  } catch (e) {
    clear(section, head, errorBox(`Could not load the open datasets: ${roomErrorMessage(e)}`));
    return;
  }
  // Which files this data room holds (HEAD reads no file); the others are said so, not linked.
  const sizes = await Promise.all(rows.map((d) =>
    fetch(`/api/datasets/${d.dataset_id}/download`, { method: "HEAD" }).then((r) => (r.ok ? Number(r.headers.get("content-length")) : null), () => null)));
  await loadNames(rows.map((d) => d.publisher));
  const list = h("ul", { class: "cards open-data" });
  rows.forEach((d, i) => {
    const brief: DatasetBrief = { id: d.dataset_id, title: d.title ?? null, publisher: d.publisher, version: d.version, domain: d.domain };
    list.append(h("li", { class: "card", id: `open-${d.dataset_id}` },
      // One child: the page's links are inline-flex boxes (44 px targets), which would lay the parts out as columns.
      h("h3", {}, h("a", { href: `#/dataset/${d.dataset_id}` }, h("span", {}, ...datasetLabel(d.dataset_id, brief)))),
      h("p", { class: "meta" }, "From ", orgLabel(d.publisher), ` · version ${d.version}`),
      sizes[i] !== null
        ? h("div", { class: "actions" }, openDownload(d.dataset_id, brief, sizes[i]))
        : h("p", { class: "muted" }, "Its file is not in this data room: ask the publisher.")));
  });
  clear(section, head,
    h("p", { class: "muted" }, "Anyone may download these, without signing in. Each file is exactly the one registered on the ledger: check it on “Verify a file”."),
    rows.length ? list : h("p", { class: "muted" }, "No open dataset yet."));
}

// ---------------------------------------------------------------- request access

async function accessForm(s: Session, refresh: () => Promise<void>): Promise<HTMLElement> {
  const head = h("h2", { id: "access-form-h" }, "Ask for access to a dataset");
  if (!s.roles.some((r) => RESEARCH_ROLES.includes(r))) {
    return h("section", { class: "panel", "aria-labelledby": "access-form-h" }, head,
      h("p", { class: "muted" }, "Only accredited researchers and publishers can ask for access. The city accredits researchers."));
  }
  let list: Purpose[] = [];
  try {
    list = await purposes();
  } catch (e) {
    return errorBox(`Could not load the purposes: ${roomErrorMessage(e)}`);
  }
  const datasetId = h("input", { type: "number", name: "dataset_id", min: "1", step: "1", inputmode: "numeric", required: true });
  const purpose = select("purpose", list.map((p) => [p.hash, p.label]), list.find((p) => p.name === "ScientificResearch")?.hash);
  const terms = h("textarea", { name: "terms", rows: 3, required: true });
  const sentence = h("p", { class: "sentence", id: "access-sentence" });
  const submit = h("button", { type: "submit", class: "primary" }, "Ask for access");
  const form = h("form", { class: "panel", id: "access-form", "aria-labelledby": "access-form-h", novalidate: true },
    head,
    field("Dataset number", datasetId, "The number on the dataset's page, e.g. 3 for dataset #3"),
    field("What for", purpose, "The purpose, in the words of the W3C Data Privacy Vocabulary"),
    field("Your terms of use", terms, "What you will do with the data and how you protect it. It stays in your browser: only its SHA-256 fingerprint goes on the ledger."),
    h("div", { class: "summary", "aria-live": "polite" }, h("h3", {}, "What you are asking"), sentence));
  const message = messageArea(form);
  form.append(message.el, submit);

  let seq = 0;
  const describe = async () => {
    const mine = ++seq;
    const n = Number(datasetId.value);
    let what: Part[] = ["the dataset you name"];
    let who = "its publisher";
    if (Number.isInteger(n) && n >= 1) {
      const brief = await datasetBrief(n);
      what = brief ? datasetLabel(n, brief) : [`dataset #${n} (not in the catalogue)`];
      if (brief?.publisher) {
        await loadNames([brief.publisher]);
        who = orgWords(brief.publisher);
      }
    }
    if (mine !== seq) return;
    const label = list.find((p) => p.hash === purpose.value)?.label ?? "the purpose you choose";
    sentence.replaceChildren(`You ask ${who} for access to `, ...what,
      ` for ${label.toLowerCase()}. It decides whether and until when; you then receive only the rows of people who consent. `
      + "Your wallet sends the request as a transaction; you pay a small network fee.");
  };
  form.addEventListener("input", () => void describe());
  form.addEventListener("change", () => void describe());
  await describe();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.clear();
    const n = Number(datasetId.value);
    if (!Number.isInteger(n) || n < 1) {
      message.error("The dataset number must be a positive whole number.", datasetId);
      return;
    }
    if (!(await datasetBrief(n))) {
      message.error("There is no dataset with that number. Check the number on the dataset's page.", datasetId);
      return;
    }
    if (!terms.value.trim()) {
      message.error("Write your terms of use: the publisher reads them before it decides.", terms);
      return;
    }
    submit.disabled = true;
    const termsHash = (await sha256Hex(new TextEncoder().encode(terms.value).buffer as ArrayBuffer)) as Hex;
    const ok = await chainTx("Ask for access", "AccessRegistry", "request_access", [BigInt(n), purpose.value as Hex, termsHash], {
      refresh: async () => {
        await refresh();
        // The newest request (the list is newest first).
        reveal(document.querySelector<HTMLElement>("#grants .card[data-status='requested']"));
      },
      onFail: (m) => message.error(plainWords(m)),
    });
    if (ok) terms.value = "";
    submit.disabled = false;
  });
  return form;
}

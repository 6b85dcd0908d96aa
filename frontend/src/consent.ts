// One consent: what it allows, in one sentence; every change to it (granted, renewed, withdrawn,
// expired, signatures cancelled) with its time, who submitted it and its transaction; its receipt.
// Public, like the ledger: the citizen appears only by their pseudonymous address.
import { api, ApiError, datasetBrief, purposeLabel, type DatasetBrief } from "./api";
import { SCOPE_DATASET } from "./codes";
import { clear, details, errorBox, fmtDate, fmtTime, h, hashCode, loading, shortHex, userText } from "./dom";
import { orgLabel } from "./names";
import { wallet } from "./wallet";
import { consentSentence, granteeWords, isAnyResearcher, loadConsentWords, scopeWords, submitterWords } from "./words";

export function consentKeyRef(raw: string): string | null {
  return /^0x[0-9a-fA-F]{64}$/.test(raw) ? raw.toLowerCase() : null;
}

function changeWords(c: any): string {
  switch (c.change) {
    case "granted":
      return `Consent granted, valid until ${fmtDate(c.expiry)}`;
    case "renewed":
      return `Consent renewed, now valid until ${fmtDate(c.expiry)}`;
    case "revoked":
      return "Consent withdrawn";
    case "expired":
      return "Consent expired: its end date passed";
    case "signatures_cancelled":
      return "Signatures cancelled: any signature not yet recorded became useless";
    default:
      return String(c.change);
  }
}

export async function renderConsent(main: HTMLElement, key: string): Promise<void> {
  clear(main, loading("the consent"));
  let hist: any;
  try {
    hist = await api(`/api/consents/${key}/history?page_size=100`);
    for (let page = 2; hist.items.length < hist.total && page <= 50; page++) {
      hist.items.push(...(await api(`/api/consents/${key}/history?page_size=100&page=${page}`)).items);
    }
  } catch (e) {
    const message = e instanceof ApiError && e.status === 404 ? "This ledger has no consent with that key." : `Could not load the consent: ${(e as Error).message}`;
    clear(main, h("p", {}, h("a", { href: "#/citizen" }, "← My data")), h("h1", {}, "Consent"), errorBox(message));
    return;
  }
  const kind = Number(hist.scope_kind_code);
  const [label, briefs] = await Promise.all([purposeLabel(hist.purpose), loadConsentWords([hist], () => kind)]);
  const brief: DatasetBrief | null = briefs.get(hist.scope_id) ?? (kind === SCOPE_DATASET ? await datasetBrief(BigInt(hist.scope_id)) : null);
  const terms = { grantee: hist.grantee, scope: scopeWords(kind, hist.scope_id, brief), purposeLabel: label, until: hist.valid_until };
  const mine = wallet.account?.toLowerCase() === hist.citizen;
  const revoked = [...hist.items].reverse().find((c: any) => c.change === "revoked");
  const stateName = hist.state === "revoked" ? "withdrawn" : hist.state;

  const changes = h("ol", { class: "history" },
    hist.items.map((c: any) =>
      h("li", { class: "change", "data-change": c.change },
        h("p", {}, h("strong", {}, fmtTime(c.at)), " — ", changeWords(c)),
        c.submitted_by
          ? h("p", { class: "meta" }, `Submitted ${submitterWords(c.submitted_by, hist.citizen, mine)}`, " · transaction ", hashCode(c.tx_hash), ` (block ${c.block_number})`)
          : h("p", { class: "meta" }, "No transaction: this happened by itself when the time came."),
      ),
    ),
  );
  const receiptUrl = `/api/consents/${key}/receipt`;
  clear(
    main,
    h("p", {}, h("a", { href: "#/citizen" }, "← My data")),
    h("h1", {}, `Consent: ${label}`),
    h("p", {}, h("span", { class: `badge badge-${hist.state}` }, stateName)),
    h("p", { class: "sentence", id: "consent-sentence" }, consentSentence(terms, hist.state, revoked?.at)),
    h("dl", { class: "facts" },
      h("dt", {}, "Who may use it (grantee)"), h("dd", {}, isAnyResearcher(hist.grantee) ? "Any accredited researcher" : orgLabel(hist.grantee)),
      h("dt", {}, "What it covers"), h("dd", {}, userText(terms.scope)),
      h("dt", {}, "What for"), h("dd", {}, label),
      h("dt", {}, hist.state === "expired" ? "Expired" : "Valid until"), h("dd", {}, fmtDate(hist.valid_until)),
      h("dt", {}, "Citizen (pseudonym)"), h("dd", {}, h("code", { class: "hash", title: hist.citizen }, shortHex(hist.citizen))),
    ),
    h("section", { "aria-labelledby": "history-h", id: "history" },
      h("h2", { id: "history-h" }, "Every change to this consent"),
      h("p", { class: "muted" }, `As recorded on the ledger, oldest first (up to ${fmtTime(hist.as_of_time)}).`),
      changes),
    h("section", { "aria-labelledby": "receipt-dl-h" },
      h("h2", { id: "receipt-dl-h" }, "Consent receipt"),
      h("p", {}, `A consent receipt is a standard record of this consent and its changes (ISO/IEC TS 27560, in JSON-LD), tied to the ledger. Keep it: anyone can check it on the Verify page or with the command line, and after a change you can download an updated one. It names ${granteeWords(hist.grantee, false)} and your pseudonymous address, nothing else about you.`),
      h("p", {}, h("a", { class: "button", href: receiptUrl, download: "", id: "receipt-download" }, "Download the receipt"), " ",
        h("a", { href: "#/verify" }, "Check a receipt"))),
    details("Technical details",
      h("p", {}, "Consent key: ", hashCode(key, 10)),
      h("p", {}, `State as of block ${hist.as_of_block}. Status: ${hist.status}.`)),
  );
}

// Plain words for what the ledger records: who may use which data, for what and until when.
// One place for the sentences, so the form, the cards, the history and the receipt check say the
// same thing (src/cityledger/query/receipts.py writes the receipt's own English sentence).
import { getAddress } from "viem";
import { datasetBrief, type DatasetBrief } from "./api";
import { ANY_RESEARCHER, SCOPE_DATASET, SCOPE_DOMAIN, SCOPE_PUBLISHER, domainLabel } from "./codes";
import { fmtDate } from "./dom";
import { loadNames, orgWords } from "./names";

export function isAnyResearcher(grantee: string | null | undefined): boolean {
  return !grantee || grantee.toLowerCase() === ANY_RESEARCHER;
}

/** Who may use the data: "Any accredited researcher" or the organisation's name. */
export function granteeWords(grantee: string | null | undefined, start = true): string {
  if (isAnyResearcher(grantee)) return start ? "Any accredited researcher" : "any accredited researcher";
  return orgWords(grantee!, start);
}

/** A publisher's address from a bytes32 scope id (left-padded). */
export function scopePublisher(scopeId: string): string {
  return getAddress(`0x${scopeId.slice(-40)}`);
}

/** What the scope covers, in words; a dataset by its title when the catalogue knows it. */
export function scopeWords(kind: number, scopeId: string, brief?: DatasetBrief | null): string {
  const n = BigInt(scopeId || "0x0");
  if (kind === SCOPE_DATASET) return brief?.title ? `'${brief.title}' (dataset #${n})` : `dataset #${n}`;
  if (kind === SCOPE_PUBLISHER) return `every dataset of ${orgWords(scopePublisher(scopeId))}`;
  if (kind === SCOPE_DOMAIN) return `every ${domainLabel(Number(n)).toLowerCase()} dataset`;
  return "an unknown scope";
}

/** Names and titles a consent sentence needs, fetched (batched, cached) before it is written. */
export async function loadConsentWords(rows: { scope_kind_code?: number; scope_kind?: unknown; scope_id: string; grantee?: string }[], kindOf: (r: any) => number): Promise<Map<string, DatasetBrief | null>> {
  const briefs = new Map<string, DatasetBrief | null>();
  const addresses: string[] = [];
  await Promise.all(
    rows.map(async (r) => {
      const kind = kindOf(r);
      if (kind === SCOPE_DATASET) briefs.set(r.scope_id, await datasetBrief(BigInt(r.scope_id)));
      if (kind === SCOPE_PUBLISHER) addresses.push(scopePublisher(r.scope_id));
      if (!isAnyResearcher(r.grantee)) addresses.push(r.grantee!);
    }),
  );
  for (const b of briefs.values()) if (b?.publisher) addresses.push(b.publisher);
  await loadNames(addresses);
  return briefs;
}

export interface ConsentTerms {
  grantee: string;
  scope: string; // scopeWords(...)
  purposeLabel: string;
  until: number | bigint; // the grant's expiry (unix seconds)
}

/** The one sentence before a grant is signed, and on its card while it is active. */
export function grantSentence(t: ConsentTerms): string {
  const until = fmtDate(Number(t.until));
  const end = until === "no end date" ? "with no end date" : `until ${until}`;
  return `${granteeWords(t.grantee)} may use your data in ${t.scope} for ${t.purposeLabel.toLowerCase()} ${end}. You can revoke at any time, free of charge.`;
}

/** What a consent allows now, by its state. */
export function consentSentence(t: ConsentTerms, state: string, revokedAt?: number | null): string {
  const noLonger = `${granteeWords(t.grantee, false)} may no longer use your data in ${t.scope} for ${t.purposeLabel.toLowerCase()}.`;
  if (state === "revoked") return `You withdrew this consent${revokedAt ? ` on ${fmtDate(revokedAt)}` : ""}: ${noLonger}`;
  if (state === "expired") return `This consent ended on ${fmtDate(Number(t.until))}: ${noLonger}`;
  return grantSentence(t);
}

/** What withdrawing does, said before the wallet is asked. */
export function revokeSentence(t: ConsentTerms): string {
  return `From the moment your withdrawal is recorded, ${granteeWords(t.grantee, false)} may no longer use your data in ${t.scope} for ${t.purposeLabel.toLowerCase()}. Data already released under this consent stays on record as released.`;
}

/** Who submitted a change: the citizen, or the city's relayer carrying the citizen's signature
 *  ("you" when the reader is that citizen). */
export function submitterWords(submittedBy: string | null | undefined, citizen: string, readerIsCitizen = true): string {
  if (!submittedBy) return "";
  if (submittedBy.toLowerCase() === citizen.toLowerCase()) return readerIsCitizen ? "by you" : "by the citizen";
  return readerIsCitizen ? "by the city's relayer, with your signature" : "by the city's relayer, with the citizen's signature";
}

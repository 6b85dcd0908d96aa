// The contracts' small integer codes (docs/CONTRACTS.md, src/cityledger/codes.py), with names for people.
export const DOMAINS: Record<number, string> = {
  1: "Health",
  2: "Education",
  3: "Agriculture",
  4: "Energy",
  5: "Public safety",
  6: "Civil administration",
  7: "Transport",
  8: "Environment",
  9: "Economy",
  10: "Housing",
  11: "Culture",
  12: "Other",
};
/** API names (snake_case) to codes, for responses that carry the name rather than the number. */
export const DOMAIN_CODES: Record<string, number> = {
  health: 1, education: 2, agriculture: 3, energy: 4, public_safety: 5, civil_administration: 6,
  transport: 7, environment: 8, economy: 9, housing: 10, culture: 11, other: 12,
};

export function domainLabel(d: number | string | null | undefined): string {
  if (d === null || d === undefined) return "—";
  const code = typeof d === "number" ? d : (DOMAIN_CODES[d] ?? Number(d));
  return DOMAINS[code] ?? String(d);
}

export const SCOPE_DATASET = 1;
export const SCOPE_PUBLISHER = 2;
export const SCOPE_DOMAIN = 3;
export const SCOPES: Record<number, string> = { 1: "Dataset", 2: "Publisher", 3: "Domain" };
export const SCOPE_CODES: Record<string, number> = { dataset: 1, publisher: 2, domain: 3 };

export const ANY_RESEARCHER = "0x0000000000000000000000000000000000000000" as const;

export const ATTESTATION_KINDS: Record<number, string> = {
  1: "Quality", 2: "Coverage", 3: "Provenance", 4: "Privacy review",
};

export const RIGHTS_KINDS: Record<number, string> = {
  1: "Access", 2: "Rectification", 3: "Erasure", 4: "Portability", 5: "Restriction", 6: "Objection",
  7: "Information", 8: "Automated decision",
};
/** API names (snake_case) of the rights kinds, for answers that carry the name. */
export const RIGHTS_KIND_CODES: Record<string, number> = {
  access: 1, rectification: 2, erasure: 3, portability: 4, restriction: 5, objection: 6, information: 7, automated_decision: 8,
};
/** What each right lets a citizen ask, in one line (GDPR articles as in docs/CONTRACTS.md). */
export const RIGHTS_EXPLAINED: Record<number, string> = {
  1: "Get a copy of the data the publisher holds about you, and learn how it is used (GDPR Art. 15).",
  2: "Have wrong or incomplete data about you corrected (Art. 16).",
  3: "Have the data about you deleted (Art. 17).",
  4: "Receive the data about you in a machine-readable file, to take it elsewhere (Art. 20).",
  5: "Have the use of the data about you paused while a question is settled (Art. 18).",
  6: "Object to the use of the data about you (Art. 21).",
  7: "Be told what data about you the publisher has, where it came from and why it is used: the right to be informed (Art. 13 and 14).",
  8: "Not be subject to a decision about you made solely by automated processing, and ask for a person to review it (Art. 22).",
};
export const RIGHTS_STATUS: Record<number, string> = { 1: "Open", 2: "Fulfilled", 3: "Refused", 4: "Withdrawn", 5: "Rejected" };
export const RIGHTS_STATUS_CODES: Record<string, number> = { open: 1, fulfilled: 2, refused: 3, withdrawn: 4, rejected: 5 };
export const TARGET_PUBLISHER = 1;
export const TARGET_DATASET = 2;

/** A code or a name from the API, as a code. */
export function codeOf(v: unknown, names: Record<string, number>): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v in names) return names[v];
  return Number(v);
}

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
};
export const RIGHTS_STATUS: Record<number, string> = { 1: "Open", 2: "Fulfilled", 3: "Refused", 4: "Withdrawn" };
export const TARGET_PUBLISHER = 1;
export const TARGET_DATASET = 2;

/** A code or a name from the API, as a code. */
export function codeOf(v: unknown, names: Record<string, number>): number {
  if (typeof v === "number") return v;
  if (typeof v === "string" && v in names) return names[v];
  return Number(v);
}

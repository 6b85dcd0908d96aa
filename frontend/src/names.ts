// Organisations by name, not by hex: every place that shows an organisation's address shows its
// public name from the organisation registry (GET /api/organisations?address=A&address=B), with the
// address on hover and in `data-address`. Names are asked in batches of up to 100 and cached for the
// page's life. An address the registry does not know (a citizen, who stays pseudonymous, or an
// organisation without a profile) shows as a shortened address.
import { api, items } from "./api";
import { h, shortHex } from "./dom";

export interface Organisation {
  address: string;
  name: string | null;
  kind?: string | null;
  website?: string | null;
  verified?: boolean;
}

const BATCH = 100;
const known = new Map<string, Organisation | null>();
const asked = new Map<string, Promise<void>>();
// The server has no organisation registry (404 on the route itself): every address is unknown.
let noRegistry = false;

function norm(address: string): string {
  return address.toLowerCase();
}

async function ask(batch: string[]): Promise<void> {
  try {
    const query = new URLSearchParams(batch.map((a) => ["address", a]));
    const body = await api(`/api/organisations?${query}`);
    for (const org of items<Organisation>(body)) {
      if (org?.address) known.set(norm(org.address), org.name ? org : null);
    }
  } catch (e: any) {
    if (e?.status === 404) noRegistry = true;
    // Unknown, or the registry cannot be reached now: the addresses stand (not retried this page).
  } finally {
    for (const a of batch) if (!known.has(a)) known.set(a, null);
  }
}

/** Resolve these addresses' names (one request per 100 unknown ones); call before rendering. */
export async function loadNames(addresses: Iterable<string | null | undefined>): Promise<void> {
  const wanted = [...new Set([...addresses].filter((a): a is string => !!a && /^0x[0-9a-fA-F]{40}$/.test(a)).map(norm))];
  const waits: Promise<void>[] = [];
  const fresh: string[] = [];
  for (const a of wanted) {
    if (known.has(a)) continue;
    const pending = asked.get(a);
    if (pending) waits.push(pending);
    else fresh.push(a);
  }
  if (noRegistry) fresh.forEach((a) => known.set(a, null));
  else {
    for (let i = 0; i < fresh.length; i += BATCH) {
      const batch = fresh.slice(i, i + BATCH);
      const p = ask(batch);
      batch.forEach((a) => asked.set(a, p));
      waits.push(p);
    }
  }
  await Promise.all(waits);
}

/** The organisation's public name, or null when none is known (load it first with loadNames). */
export function orgName(address: string | null | undefined): string | null {
  return address ? known.get(norm(address))?.name ?? null : null;
}

/** An organisation as people read it: its name (address on hover), or the shortened address. */
export function orgLabel(address: string | null | undefined, opts: { href?: string } = {}): HTMLElement {
  const a = address ?? "";
  const name = orgName(a);
  const attrs = { class: name ? "org" : "org org-unnamed", title: a, "data-address": a };
  const inner = name ? h("bdi", { dir: "auto" }, name) : h("code", {}, shortHex(a));
  return opts.href ? h("a", { ...attrs, href: opts.href }, inner) : h("span", attrs, inner);
}

/** The organisation's name for a sentence ("the organisation at 0x12…ab" when it has none). */
export function orgWords(address: string, start = false): string {
  return orgName(address) ?? `${start ? "The" : "the"} organisation at ${shortHex(address)}`;
}

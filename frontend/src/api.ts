// The query API on the same origin (the API process serves this page), so every URL is relative.
import type { Abi, Address } from "viem";

export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
  ) {
    super(message);
  }
}

export async function api<T = any>(path: string, init?: RequestInit): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { ...init, headers: { accept: "application/json", ...(init?.headers ?? {}) } });
  } catch {
    throw new ApiError(0, "network", "The CityLedger server cannot be reached.");
  }
  const text = await res.text();
  let body: any = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) {
    const err = body?.error ?? body?.detail;
    const message =
      typeof err === "string" ? err : err?.message ?? (Array.isArray(err) ? err.map((e: any) => e.msg).join("; ") : null);
    throw new ApiError(res.status, err?.code ?? String(res.status), message ?? `${res.status} ${res.statusText}`);
  }
  return body as T;
}

/** The dataset reference of the page's address (#/dataset/REF): an id or a 0x content hash, else null.
 *  Only such a reference reaches an API URL: "..", "a/b" or "%2e%2e" from a crafted link would make the
 *  page fetch other same-origin paths (the browser resolves dot segments in the URL it is given). */
export function datasetRef(raw: string): string | null {
  let text: string;
  try {
    text = decodeURIComponent(raw).trim();
  } catch {
    return null;
  }
  return /^[0-9]{1,19}$/.test(text) || /^0x[0-9a-fA-F]{64}$/.test(text) ? text : null;
}

/** The API path of a dataset or one of its sub-resources, the reference encoded as one path segment. */
export function datasetPath(ref: string, sub: "" | "/versions" | "/attestations" | "/consent-counts" = ""): string {
  return `/api/datasets/${encodeURIComponent(ref)}${sub}`;
}

export function postJson<T = any>(path: string, payload: unknown): Promise<T> {
  return api<T>(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

/** Lists come bare or paged ({items, page, page_size, total}) or under a named key; the page takes either. */
export function items<T = any>(body: any, key = "items"): T[] {
  if (Array.isArray(body)) return body;
  if (Array.isArray(body?.[key])) return body[key];
  return Array.isArray(body?.items) ? body.items : [];
}

export interface ContractInfo {
  address: Address;
  abi: Abi;
}
export interface Deployment {
  chainId: number;
  rpcUrl: string;
  network: string;
  contracts: Record<string, ContractInfo>;
}

let deploymentPromise: Promise<Deployment> | null = null;

/** Contract addresses and ABIs from the deployment record, fetched once. */
export function deployment(): Promise<Deployment> {
  deploymentPromise ??= api("/api/deployment").then(normaliseDeployment, (e) => {
    deploymentPromise = null;
    throw e;
  });
  return deploymentPromise;
}

function normaliseDeployment(raw: any): Deployment {
  return { chainId: Number(raw.chain_id), rpcUrl: raw.rpc_url ?? "", network: raw.network ?? "devnet", contracts: raw.contracts ?? {} };
}

export async function contractInfo(name: string): Promise<ContractInfo> {
  const d = await deployment();
  const c = d.contracts[name];
  if (!c?.address || !c.abi) throw new Error(`The deployment record has no ${name} contract.`);
  return c;
}

export interface Purpose {
  name: string;
  label: string;
  iri: string;
  hash: string;
}
let purposesPromise: Promise<Purpose[]> | null = null;
export function purposes(): Promise<Purpose[]> {
  purposesPromise ??= api("/api/purposes").then((b) => items<Purpose>(b), (e) => {
    purposesPromise = null;
    throw e;
  });
  return purposesPromise;
}

/** A purpose's readable label from its hash (the chain only knows the hash). */
export async function purposeLabel(hash: string): Promise<string> {
  const list = await purposes().catch(() => [] as Purpose[]);
  const p = list.find((x) => x.hash.toLowerCase() === hash?.toLowerCase());
  return p ? p.label : hash;
}

/** Poll /api/status until the indexer has reached `block` (then the query API shows the change). */
export async function waitForIndexer(block: bigint | number, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  while (Date.now() < deadline) {
    try {
      const status = await api("/api/status");
      if (Number(status.last_indexed_block ?? -1) >= Number(block)) return true;
    } catch {
      /* the server may be restarting: keep polling until the deadline */
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 2000);
  }
  return false;
}

/** Every item of a paged list route ({items, page, page_size, total}; at most 100 a page), read
 *  page by page up to `maxPages` (a lineage or a citizen's releases rarely needs more than one). */
export async function allPages<T = any>(path: string, maxPages = 20): Promise<T[]> {
  const sep = path.includes("?") ? "&" : "?";
  const out: T[] = [];
  for (let page = 1; page <= maxPages; page++) {
    const body = await api(`${path}${sep}page=${page}&page_size=100`);
    const got = items<T>(body);
    out.push(...got);
    if (!got.length || typeof body?.total !== "number" || out.length >= body.total) break;
  }
  return out;
}

export interface DatasetBrief {
  id: number;
  title: string | null;
  publisher: string | null;
  version: number | null;
  domain: string | null;
}
const briefs = new Map<number, Promise<DatasetBrief | null>>();

/** A dataset's title and publisher for sentences ("'Clinic visits' (dataset #4)"), fetched once;
 *  null when the index has no such dataset. */
export function datasetBrief(id: number | bigint): Promise<DatasetBrief | null> {
  const n = Number(id);
  if (!briefs.has(n)) {
    briefs.set(
      n,
      api(datasetPath(String(n))).then(
        (d: any) => ({ id: n, title: d?.title ?? null, publisher: d?.publisher ?? null, version: d?.version ?? null, domain: d?.domain ?? null }),
        (e) => {
          if (e?.status !== 404) briefs.delete(n); // a network error may pass: ask again next time
          return null;
        },
      ),
    );
  }
  return briefs.get(n)!;
}

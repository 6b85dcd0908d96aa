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
    res = await fetch(path, { headers: { accept: "application/json", ...(init?.headers ?? {}) }, ...init });
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

export function postJson<T = any>(path: string, payload: unknown): Promise<T> {
  return api<T>(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(payload),
  });
}

/** Lists come bare or wrapped ({items: [...]}, {results}, {data}); the page takes either. */
export function items<T = any>(body: any, ...keys: string[]): T[] {
  if (Array.isArray(body)) return body;
  for (const k of [...keys, "items", "results", "data", "rows"]) if (Array.isArray(body?.[k])) return body[k];
  return [];
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
  const contracts: Record<string, ContractInfo> = {};
  const abis = raw.abis ?? {};
  for (const [name, c] of Object.entries<any>(raw.contracts ?? {})) {
    const address = typeof c === "string" ? c : c.address;
    const abi = (typeof c === "object" && c.abi) || abis[name];
    contracts[name] = { address, abi };
  }
  return {
    chainId: Number(raw.chain_id ?? raw.chainId),
    rpcUrl: raw.rpc_url ?? raw.rpcUrl ?? "",
    network: raw.network ?? raw.network_name ?? "devnet",
    contracts,
  };
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
  purposesPromise ??= api("/api/purposes").then((b) => items<Purpose>(b, "purposes"), (e) => {
    purposesPromise = null;
    throw e;
  });
  return purposesPromise;
}

/** A purpose's readable label from its hash (the chain only knows the hash). */
export async function purposeLabel(hash: string): Promise<string> {
  const list = await purposes().catch(() => [] as Purpose[]);
  const p = list.find((x) => x.hash?.toLowerCase() === hash?.toLowerCase() || x.name === hash || x.iri === hash);
  return p ? p.label : hash;
}

/** The block up to which the indexer has applied events (field names as /api/status gives them). */
export function indexedBlock(status: any): number {
  const v =
    status?.last_indexed_block ?? status?.indexed_block ?? status?.indexer?.last_block ?? status?.last_block ?? -1;
  return Number(v);
}

/** Poll /api/status until the indexer has reached `block` (then the query API shows the change). */
export async function waitForIndexer(block: bigint | number, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let delay = 250;
  while (Date.now() < deadline) {
    try {
      if (indexedBlock(await api("/api/status")) >= Number(block)) return true;
    } catch {
      /* the server may be restarting: keep polling until the deadline */
    }
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 1.5, 2000);
  }
  return false;
}

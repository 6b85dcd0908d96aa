// The citizen's browser wallet (EIP-1193 window.ethereum): connect, check the chain, switch or add it.
import {
  createPublicClient,
  createWalletClient,
  custom,
  defineChain,
  getAddress,
  type Address,
  type Chain,
  type EIP1193Provider,
  type PublicClient,
  type WalletClient,
} from "viem";
import { deployment, type Deployment } from "./api";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export interface WalletState {
  provider: EIP1193Provider | null;
  account: Address | null;
  chainId: number | null;
  expectedChainId: number | null;
  error: string | null;
}

export const wallet: WalletState = {
  provider: null,
  account: null,
  chainId: null,
  expectedChainId: null,
  error: null,
};

const listeners = new Set<() => void>();
export function onWalletChange(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}
function changed(): void {
  for (const fn of listeners) fn();
}

export function hasWallet(): boolean {
  return typeof window.ethereum?.request === "function";
}

export function onRightChain(): boolean {
  return wallet.chainId !== null && wallet.chainId === wallet.expectedChainId;
}

let chainCache: Chain | null = null;
export async function chain(): Promise<Chain> {
  if (chainCache) return chainCache;
  const d = await deployment();
  chainCache = defineChain({
    id: d.chainId,
    name: chainName(d),
    nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
    rpcUrls: { default: { http: d.rpcUrl ? [d.rpcUrl] : [] } },
  });
  return chainCache;
}

function chainName(d: Deployment): string {
  return `CityLedger ${d.network || "devnet"}`;
}

export async function clients(): Promise<{ publicClient: PublicClient; walletClient: WalletClient; account: Address }> {
  if (!wallet.provider || !wallet.account) throw new Error("Connect your wallet first.");
  if (!onRightChain()) throw new Error("Your wallet is on another network: switch it first.");
  const c = await chain();
  const transport = custom(wallet.provider);
  return {
    publicClient: createPublicClient({ chain: c, transport }) as PublicClient,
    walletClient: createWalletClient({ chain: c, transport, account: wallet.account }),
    account: wallet.account,
  };
}

let subscribed = false;
function subscribe(p: EIP1193Provider): void {
  if (subscribed) return;
  subscribed = true;
  p.on?.("accountsChanged", (accounts: readonly Address[]) => {
    if (wasDisconnected()) return; // the citizen disconnected this page: stay so until they connect
    wallet.account = accounts[0] ? getAddress(accounts[0]) : null;
    changed();
  });
  p.on?.("chainChanged", (id: string) => {
    wallet.chainId = Number(id);
    changed();
  });
}

// "Disconnect" must survive a reload: the wallet still trusts the page (eth_accounts answers), so
// the page remembers the citizen's choice and does not reconnect by itself until they connect again.
const DISCONNECTED = "cityledger.disconnected";

function rememberDisconnected(yes: boolean): void {
  try {
    if (yes) localStorage.setItem(DISCONNECTED, "1");
    else localStorage.removeItem(DISCONNECTED);
  } catch {
    /* storage off (private mode): the choice lasts until the page is reloaded */
  }
}

function wasDisconnected(): boolean {
  try {
    return localStorage.getItem(DISCONNECTED) === "1";
  } catch {
    return false;
  }
}

/** Ask the wallet for an account (the wallet shows its own prompt). */
export async function connect(): Promise<void> {
  wallet.error = null;
  rememberDisconnected(false);
  if (!hasWallet()) {
    wallet.error = "No browser wallet found. Install an Ethereum wallet (for example MetaMask or Rabby) and reload this page.";
    changed();
    return;
  }
  const p = window.ethereum!;
  wallet.provider = p;
  subscribe(p);
  try {
    wallet.expectedChainId = (await deployment()).chainId;
    const accounts = (await p.request({ method: "eth_requestAccounts" })) as Address[];
    wallet.account = accounts[0] ? getAddress(accounts[0]) : null;
    wallet.chainId = Number(await p.request({ method: "eth_chainId" }));
    if (!wallet.account) wallet.error = "The wallet gave no account.";
  } catch (e: any) {
    wallet.error = e?.code === 4001 ? "You declined the connection in your wallet." : `Could not connect: ${e?.message ?? e}`;
  }
  changed();
}

/** Reconnect silently when the wallet already trusts this page (eth_accounts never prompts). */
export async function restore(): Promise<void> {
  if (!hasWallet() || wasDisconnected()) return;
  const p = window.ethereum!;
  try {
    const accounts = (await p.request({ method: "eth_accounts" })) as Address[];
    if (!accounts.length) return;
    wallet.provider = p;
    subscribe(p);
    wallet.expectedChainId = (await deployment()).chainId;
    wallet.account = getAddress(accounts[0]);
    wallet.chainId = Number(await p.request({ method: "eth_chainId" }));
    changed();
  } catch {
    /* not connected yet: the Connect button stays */
  }
}

export function disconnect(): void {
  wallet.account = null;
  wallet.error = null;
  rememberDisconnected(true);
  // Wallets that support it forget the page's permission too (EIP-2255); others ignore the call.
  window.ethereum?.request({ method: "wallet_revokePermissions" as any, params: [{ eth_accounts: {} }] as any }).catch(() => undefined);
  changed();
}

/** The CityLedger network's name for people ("CityLedger devnet"). */
export async function networkName(): Promise<string> {
  return chainName(await deployment());
}

/** Switch the wallet to the CityLedger network; add it first if the wallet does not know it (4902). */
export async function switchChain(): Promise<void> {
  const p = wallet.provider;
  if (!p) return;
  const d = await deployment();
  const chainId = `0x${d.chainId.toString(16)}`;
  wallet.error = null;
  try {
    await p.request({ method: "wallet_switchEthereumChain", params: [{ chainId }] });
  } catch (e: any) {
    const unknown = e?.code === 4902 || e?.data?.originalError?.code === 4902;
    if (!unknown) {
      wallet.error = e?.code === 4001 ? "You declined the network switch." : `Could not switch: ${e?.message ?? e}`;
      changed();
      return;
    }
    try {
      await p.request({
        method: "wallet_addEthereumChain",
        params: [
          {
            chainId,
            chainName: chainName(d),
            nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
            rpcUrls: [d.rpcUrl],
          },
        ],
      });
    } catch (e2: any) {
      wallet.error = e2?.code === 4001 ? "You declined adding the network." : `Could not add the network: ${e2?.message ?? e2}`;
      changed();
      return;
    }
  }
  // Wallets emit chainChanged, but not all do it before resolving: read it back.
  wallet.chainId = Number(await p.request({ method: "eth_chainId" }));
  changed();
}

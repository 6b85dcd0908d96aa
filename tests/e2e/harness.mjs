// Browser-test harness: the stack (tests/e2e/stack.py), Debian's chromium via playwright-core,
// and an injected EIP-1193 test wallet that forwards to anvil and signs typed data and messages
// (personal_sign, for EIP-4361 sign-in) on the Node side.
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { after, before } from "node:test";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { privateKeyToAccount } from "viem/accounts";

const HERE = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(HERE, "../..");
export const ARTIFACTS = join(HERE, "artifacts");
// The screenshots of the citizen journey in docs/WEB.md: written there when E2E_DOCS_SCREENSHOTS=1.
export const DOCS_IMG = join(ROOT, "docs/img");
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** Build frontend/dist when it is missing or older than its sources (the API serves it). */
export function ensureBuilt() {
  const dist = join(ROOT, "frontend/dist/index.html");
  const mtime = (p) => statSync(p).mtimeMs;
  const newest = (dir) =>
    Math.max(...readdirSync(dir, { withFileTypes: true }).map((e) => (e.isDirectory() ? newest(join(dir, e.name)) : mtime(join(dir, e.name)))));
  let built = 0;
  try {
    built = mtime(dist);
  } catch {
    built = 0;
  }
  const sources = Math.max(newest(join(ROOT, "frontend/src")), mtime(join(ROOT, "frontend/index.html")), mtime(join(ROOT, "frontend/vite.config.ts")));
  if (built >= sources) return;
  const r = spawnSync(join(ROOT, "node_modules/.bin/vite"), ["build", "frontend", "--logLevel", "warn"], { cwd: ROOT, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`vite build failed:\n${r.stdout}\n${r.stderr}`);
}

/** Start the stack; resolves to its JSON line ({api, rpc, chain_id, citizen, datasets, ...}). */
export async function startStack() {
  const child = spawn(join(ROOT, ".venv/bin/python"), [join(HERE, "stack.py")], {
    cwd: ROOT,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
    if (process.env.E2E_VERBOSE) process.stderr.write(d);
  });
  const lines = createInterface({ input: child.stdout });
  const first = await new Promise((resolveLine, reject) => {
    const timer = setTimeout(() => reject(new Error(`stack.py gave no answer in 120 s\n${stderr.slice(-3000)}`)), 120_000);
    lines.once("line", (line) => {
      clearTimeout(timer);
      resolveLine(line);
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`stack.py exited with ${code}\n${stderr.slice(-3000)}`));
    });
  });
  const info = JSON.parse(first);
  if (info.error) throw new Error(`stack.py: ${info.error}\n${stderr.slice(-3000)}`);
  info.stop = () =>
    new Promise((done) => {
      if (child.exitCode !== null) return done();
      child.once("exit", done);
      child.stdin.end();
      setTimeout(() => child.kill("SIGTERM"), 15_000).unref();
    });
  return info;
}

export async function launchBrowser() {
  mkdirSync(ARTIFACTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--no-first-run",
      "--disable-sync",
      "--disable-quic",
    ],
  });
}

/** One JSON-RPC call straight to the node; resolves to the whole response ({result} or {error}). */
export async function rpc(url, method, params) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }),
  });
  return res.json();
}

/** uint/int fields of typed data arrive as strings from JSON: make them bigints for viem. */
function reviveTypedData(typed) {
  const types = { ...typed.types };
  delete types.EIP712Domain;
  const revive = (typeName, value) => {
    const out = {};
    for (const { name, type } of types[typeName] ?? []) {
      const v = value[name];
      if (/^u?int\d*$/.test(type)) out[name] = BigInt(v);
      else if (types[type]) out[name] = revive(type, v);
      else out[name] = v;
    }
    return out;
  };
  const domain = { ...typed.domain };
  if (domain.chainId !== undefined) domain.chainId = Number(domain.chainId);
  return { domain, types, primaryType: typed.primaryType, message: revive(typed.primaryType, typed.message) };
}

/**
 * A test wallet in the page: window.ethereum, whose requests run here in Node.
 * chainId: the chain the wallet starts on; knownChains: the chains it can switch to without adding.
 * Returns a handle with the calls it saw (for assertions).
 */
export async function injectWallet(page, { rpcUrl, privateKey, chainId, knownChains = [chainId] }) {
  const keyed = (key) => privateKeyToAccount(key.startsWith("0x") ? key : `0x${key}`);
  const account = keyed(privateKey);
  const state = { chainId, known: new Set(knownChains), connected: false, calls: [] };
  const fail = (code, message) => ({ error: { code, message } });
  await page.exposeFunction("__cityTestWallet", async (method, params) => {
    state.calls.push(method);
    // What the page shows when the wallet would prompt the person (a test sets state.onPrompt).
    if (state.onPrompt && (method === "eth_sendTransaction" || method === "eth_signTypedData_v4" || method === "personal_sign"))
      await state.onPrompt(method, params);
    // A test can make the "user" press Reject for one method (state.reject = "eth_signTypedData_v4").
    if (state.reject === method) return fail(4001, "User rejected the request.");
    switch (method) {
      case "eth_requestAccounts":
        state.connected = true;
        return { result: [account.address] };
      case "eth_accounts":
        return { result: state.connected ? [account.address] : [] };
      case "eth_chainId":
        return { result: `0x${state.chainId.toString(16)}` };
      case "wallet_switchEthereumChain": {
        const id = Number(params[0].chainId);
        if (!state.known.has(id)) return fail(4902, `Unrecognized chain ID ${params[0].chainId}`);
        state.chainId = id;
        await page.evaluate((hex) => window.ethereum._emit("chainChanged", hex), params[0].chainId);
        return { result: null };
      }
      case "wallet_addEthereumChain": {
        const id = Number(params[0].chainId);
        if (!params[0].rpcUrls?.length) return fail(-32602, "rpcUrls required");
        state.known.add(id);
        state.chainId = id; // as MetaMask does: adding a chain also switches to it
        state.added = params[0];
        await page.evaluate((hex) => window.ethereum._emit("chainChanged", hex), params[0].chainId);
        return { result: null };
      }
      case "eth_signTypedData_v4": {
        if (params[0].toLowerCase() !== account.address.toLowerCase()) return fail(4100, "unknown account");
        const typed = typeof params[1] === "string" ? JSON.parse(params[1]) : params[1];
        return { result: await account.signTypedData(reviveTypedData(typed)) };
      }
      case "personal_sign": {
        // EIP-4361 sign-in: params [message as 0x hex of its UTF-8 bytes, address]. A test can make a
        // forged signature (state.signWith: another key signs, as a tampered wallet or a thief would).
        const [data, address] = params;
        if (address.toLowerCase() !== account.address.toLowerCase()) return fail(4100, "unknown account");
        state.signed = (state.signed ?? []).concat(Buffer.from(data.slice(2), "hex").toString("utf8"));
        const signer = state.signWith ? keyed(state.signWith) : account;
        return { result: await signer.signMessage({ message: { raw: data } }) };
      }
      default: {
        if (!state.connected && method === "eth_sendTransaction") return fail(4100, "not connected");
        if (!method.startsWith("eth_") && !method.startsWith("net_") && !method.startsWith("web3_"))
          return fail(4200, `unsupported method ${method}`);
        const body = await rpc(rpcUrl, method, params ?? []);
        return body.error ? { error: { code: body.error.code, message: body.error.message, data: body.error.data } } : { result: body.result };
      }
    }
  });
  await page.addInitScript(() => {
    const listeners = {};
    window.ethereum = {
      isCityLedgerTestWallet: true,
      on(event, fn) {
        (listeners[event] ??= []).push(fn);
      },
      removeListener(event, fn) {
        listeners[event] = (listeners[event] ?? []).filter((f) => f !== fn);
      },
      _emit(event, arg) {
        for (const fn of listeners[event] ?? []) fn(arg);
      },
      async request({ method, params }) {
        const r = await window.__cityTestWallet(method, params ?? []);
        if (r.error) {
          const e = new Error(r.error.message);
          e.code = r.error.code;
          e.data = r.error.data;
          throw e;
        }
        return r.result;
      },
    };
  });
  return state;
}

export function shot(page, name) {
  return page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** Fail the test on any uncaught error in the page (console errors are collected for messages). */
export function watchErrors(page) {
  const errors = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  return errors;
}

/** One stack and one browser for a test file: started before its tests, stopped after them.
 *  Returns a handle whose `stack` and `browser` are set once started. */
export function stackForFile() {
  const handle = { stack: null, browser: null };
  before(async () => {
    ensureBuilt();
    handle.stack = await startStack();
    handle.browser = await launchBrowser();
  });
  after(async () => {
    await handle.browser?.close();
    await handle.stack?.stop?.();
  });
  return handle;
}

/** A page of its own in a new context (a viewport, a locale, optionally the test wallet). */
export async function newPage(browser, { wallet, viewport = { width: 1400, height: 900 }, locale = "en-GB" } = {}) {
  const context = await browser.newContext({ viewport, locale });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const walletState = wallet ? await injectWallet(page, wallet) : null;
  return { context, page, errors, wallet: walletState };
}

/** A screenshot of the viewport for docs/WEB.md (docs/img/NAME.png) when E2E_DOCS_SCREENSHOTS=1,
 *  else under tests/e2e/artifacts/: the figures in the docs are made by these tests. */
export function docShot(page, name) {
  const docs = process.env.E2E_DOCS_SCREENSHOTS === "1";
  if (docs) mkdirSync(DOCS_IMG, { recursive: true });
  return page.screenshot({ path: join(docs ? DOCS_IMG : ARTIFACTS, `${name}.png`), scale: "css", animations: "disabled", caret: "hide" });
}

let axeSource = null;

/** axe-core's violations on the page as it is now ([] when none), each as "rule: target (summary)".
 *  Injected through the DevTools protocol, so the page's Content-Security-Policy stays on. */
export async function axeViolations(page) {
  axeSource ??= readFileSync(join(ROOT, "node_modules/axe-core/axe.min.js"), "utf8");
  if (!(await page.evaluate(() => typeof window.axe === "object"))) await page.evaluate(axeSource);
  const result = await page.evaluate(async () => {
    const r = await window.axe.run(document, { resultTypes: ["violations"] });
    return r.violations.map((v) => v.nodes.map((n) => `${v.id}: ${n.target.join(" ")} (${n.failureSummary?.split("\n")[1]?.trim() ?? v.help})`)).flat();
  });
  return result;
}

/** The visible controls a finger must hit (links, buttons, disclosures, form fields, the labels of
 *  radio buttons) that are smaller than 44 x 44 CSS px, as "tag 'text' WxH". */
export function smallTargets(page) {
  return page.evaluate(() => {
    const out = [];
    const targets = [...document.querySelectorAll("a[href], button, summary, select, textarea, input:not([type=radio]):not([type=checkbox]):not([type=file]), .radio label")];
    for (const el of targets) {
      const style = getComputedStyle(el);
      if (style.visibility === "hidden" || style.display === "none" || el.closest("[hidden], .skip, details:not([open]) > :not(summary)")) continue;
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.width < 43.5 || r.height < 43.5) out.push(`${el.tagName.toLowerCase()} '${(el.textContent ?? "").trim().slice(0, 40)}' ${Math.round(r.width)}x${Math.round(r.height)}`);
    }
    return out;
  });
}

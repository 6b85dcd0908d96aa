// The web page in a real browser (Debian's chromium) against the whole stack (tests/e2e/stack.py).
// One stack and one browser for the file; the citizen tests run in order on one page.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { createPublicClient, createWalletClient, http, keccak256, toHex } from "viem";
import { ensureBuilt, injectWallet, launchBrowser, rpc, shot, startStack, watchErrors } from "./harness.mjs";

let stack;
let browser;

before(async () => {
  ensureBuilt();
  stack = await startStack();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await stack?.stop?.();
});

async function newPage({ wallet, viewport = { width: 1280, height: 900 } } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  const errors = watchErrors(page);
  const walletState = wallet ? await injectWallet(page, wallet) : null;
  return { context, page, errors, wallet: walletState };
}

/** Record every state each transaction entry goes through (the live region's data-state). */
async function recordTxStates(page) {
  await page.evaluate(() => {
    window.__txStates = [];
    if (window.__txObserved) return;
    window.__txObserved = true;
    const seen = new WeakMap();
    const note = (el) => {
      const label = el.querySelector("strong")?.textContent ?? "";
      const list = seen.get(el) ?? [];
      if (list.at(-1) !== el.dataset.state) {
        list.push(el.dataset.state);
        seen.set(el, list);
        window.__txStates.push(`${label}:${el.dataset.state}`);
      }
    };
    new MutationObserver((muts) => {
      for (const m of muts) {
        const el = m.target instanceof Element ? m.target.closest(".tx") : null;
        if (el) note(el);
        for (const n of m.addedNodes) if (n instanceof Element && n.matches(".tx")) note(n);
      }
    }).observe(document.getElementById("tx-live"), { subtree: true, childList: true, attributes: true, attributeFilter: ["data-state"] });
  });
}

async function txStates(page, label) {
  const all = await page.evaluate(() => window.__txStates);
  return all.filter((s) => s.startsWith(`${label}:`)).map((s) => s.slice(label.length + 1));
}

/** The form controls on the page that no label and no aria-label names (as HTML, for the message). */
function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")].filter((el) => !el.labels?.length && !el.getAttribute("aria-label")).map((el) => el.outerHTML),
  );
}

/** Wait for the newest transaction entry with this label to end (indexed or failed). */
async function txOutcome(page, label) {
  const entry = page.locator(".tx", { has: page.locator("strong", { hasText: new RegExp(`^${label}$`) }) }).first();
  await entry.locator("xpath=self::*[@data-state='indexed' or @data-state='failed']").waitFor({ timeout: 45_000 });
  return { state: await entry.getAttribute("data-state"), text: await entry.innerText(), entry };
}

describe("public pages", () => {
  test("catalogue: list, filter by domain, search, dataset page with provenance", { timeout: 60_000 }, async () => {
    const { page, errors, context } = await newPage();
    await page.goto(`${stack.api}/`);
    await page.getByRole("heading", { name: "Dataset catalogue" }).waitFor();
    const ids = () => page.locator("#results .card h2 a").evaluateAll((as) => as.map((a) => Number(a.hash.split("/").pop())));
    await page.locator("#results .card").first().waitFor();
    const listed = await ids();
    for (const key of ["trips_v2", "energy", "clinics"])
      assert.ok(listed.includes(stack.datasets[key]), `the catalogue lists ${key} (#${stack.datasets[key]}): ${listed}`);
    assert.match(await page.locator("#results .card", { hasText: "personal data" }).innerText(), /Health/);
    await shot(page, "catalogue");

    await page.getByLabel("Domain").selectOption({ label: "Energy" });
    await page.waitForURL(/domain=4/);
    await page.locator("#results .card h2").first().waitFor();
    await page.waitForFunction(() => document.querySelectorAll("#results .card").length === 1);
    assert.deepEqual(await ids(), [stack.datasets.energy]);

    await page.getByLabel("Domain").selectOption({ label: "All domains" });
    await page.getByLabel("Publisher address").fill(stack.agency);
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/publisher=/);
    await page.waitForFunction((n) => !document.querySelector("#results [aria-busy]") && document.querySelectorAll("#results .card").length >= n, 2);
    const byAgency = await ids();
    assert.ok(byAgency.includes(stack.datasets.clinics) && !byAgency.includes(stack.datasets.energy), `agency filter: ${byAgency}`);

    // Search: a content-hash prefix finds exactly that version.
    await page.getByLabel("Publisher address").fill("");
    await page.getByLabel("Search", { exact: true }).fill(stack.hashes.energy.slice(0, 12));
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForURL(/q=0x/);
    await page.waitForFunction(() => document.querySelectorAll("#results .card").length === 1);
    assert.deepEqual(await ids(), [stack.datasets.energy]);

    // The corrected bus data: two versions, an attestation.
    await page.goto(`${stack.api}/#/dataset/${stack.datasets.trips_v2}`);
    await page.getByRole("heading", { name: "Versions and provenance" }).waitFor();
    const versions = page.locator(".timeline li");
    assert.equal(await versions.count(), 2);
    assert.match(await versions.nth(0).innerText(), /Version 1.*superseded/is);
    assert.match(await page.locator("section", { hasText: "Attestations" }).innerText(), /Quality/);
    await shot(page, "dataset");

    // The clinic data: four citizens consented to scientific research on it.
    await page.goto(`${stack.api}/#/dataset/${stack.datasets.clinics}`);
    const row = page.locator("table.counts tr", { hasText: "Scientific research" });
    await row.waitFor();
    assert.equal((await row.locator("td").innerText()).trim(), "4");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("verify a file: dropped, chosen with the file input, unknown", { timeout: 60_000 }, async () => {
    const { page, errors, context } = await newPage();
    await page.goto(`${stack.api}/#/verify`);
    await page.getByRole("heading", { name: "Verify a file" }).waitFor();

    // Drag and drop: a real DataTransfer carrying the superseded first version's bytes.
    const bytes = readFileSync(stack.files.trips_v1, "utf8");
    const dataTransfer = await page.evaluateHandle((text) => {
      const dt = new DataTransfer();
      dt.items.add(new File([text], "bus-trips-2024-v1.csv", { type: "text/csv" }));
      return dt;
    }, bytes);
    await page.dispatchEvent("#dropzone", "dragover", { dataTransfer });
    await page.dispatchEvent("#dropzone", "drop", { dataTransfer });
    const verdict = page.locator(".verdict");
    await verdict.waitFor();
    assert.equal(await verdict.getAttribute("data-status"), "superseded");
    assert.match(await verdict.innerText(), /newer version/i);
    await shot(page, "verify-dropped");

    // The file input (keyboard users): the current version.
    await page.setInputFiles("#verify-file", stack.files.trips_v2);
    await page.locator('.verdict[data-status="registered"]').waitFor();

    await page.setInputFiles("#verify-file", { name: "forged.csv", mimeType: "text/csv", buffer: Buffer.from("route,trips\n1,999\n") });
    await page.locator('.verdict[data-status="not_registered"]').waitFor();
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("statistics: two SVG charts with text alternatives", { timeout: 30_000 }, async () => {
    const { page, errors, context } = await newPage();
    await page.goto(`${stack.api}/#/stats`);
    await page.locator("svg[role=img]").nth(1).waitFor();
    assert.equal(await page.locator("svg[role=img]").count(), 2);
    // The text alternative: each chart's data as a table behind a disclosure.
    await page.locator("details.chart-table summary").first().click();
    const domainsTable = await page.locator("details.chart-table table").first().innerText();
    assert.match(domainsTable, /Transport\s+2/);
    assert.match(domainsTable, /Energy\s+1/);
    await page.locator("details.chart-table summary").nth(1).click();
    assert.match(await page.locator("details.chart-table table").nth(1).innerText(), /\d{4}-\d{2}-\d{2}\s+\d+\s+\d+/);
    await shot(page, "statistics");
    assert.deepEqual(errors, []);
    await context.close();
  });

  test("no wallet installed: a clear message", { timeout: 30_000 }, async () => {
    const { page, context } = await newPage();
    await page.goto(`${stack.api}/#/citizen`);
    await page.getByRole("heading", { name: "No wallet found" }).waitFor();
    assert.match(await page.locator("#no-wallet").innerText(), /browser wallet/);
    await context.close();
  });

  test("keyboard: skip link first, visible focus, labelled controls", { timeout: 30_000 }, async () => {
    const { page, context } = await newPage();
    await page.goto(`${stack.api}/#/catalogue`);
    await page.locator("#results .card").first().waitFor();
    // The view may still be loading (e.g. further pages); a re-render would move the focus.
    await page.locator("#main:not([aria-busy])").waitFor();
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Skip to content");
    await page.keyboard.press("Enter");
    assert.equal(await page.evaluate(() => document.activeElement.id), "main");
    // The skip link leaves the router's hash alone (it used to re-render the view as "#main").
    assert.equal(await page.evaluate(() => location.hash), "#/catalogue");
    // The next stops are the search form's controls, each with a visible focus ring.
    await page.keyboard.press("Tab");
    const ring = await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { name: el.getAttribute("name"), html: el.outerHTML.slice(0, 120), outline: style.outlineStyle, width: parseFloat(style.outlineWidth) };
    });
    assert.equal(ring.name, "q", `focus went to ${ring.html}`);
    assert.notEqual(ring.outline, "none");
    assert.ok(ring.width >= 2, `focus ring ${ring.width}px`);
    // Every form control on the page has a label that names it.
    assert.deepEqual(await unlabelledControls(page), []);
    await context.close();
  });

  test("phone-sized screen: no sideways scrolling", { timeout: 30_000 }, async () => {
    const { page, context } = await newPage({ viewport: { width: 390, height: 844 } });
    for (const [hash, name] of [["#/catalogue", "phone-catalogue"], [`#/dataset/${stack.datasets.trips_v2}`, "phone-dataset"], ["#/stats", "phone-statistics"]]) {
      await page.goto(`${stack.api}/${hash}`);
      await page.locator("main h1").waitFor();
      await page.locator("#main:not([aria-busy])").waitFor();
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(width <= 390, `${hash} is ${width}px wide on a 390px screen`);
      await shot(page, name);
    }
    await context.close();
  });
});

describe("citizen with a wallet", () => {
  let page;
  let context;
  let errors;
  let wallet;

  before(async () => {
    ({ page, context, errors, wallet } = await newPage({
      wallet: { rpcUrl: stack.rpc, privateKey: stack.citizen.key, chainId: stack.chain_id },
    }));
  });
  after(async () => context?.close());

  test("connect: the account, my consents with DPV labels, a verified data release", { timeout: 60_000 }, async () => {
    await page.goto(`${stack.api}/#/citizen`);
    await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
    await page.getByRole("heading", { name: "Grant consent" }).waitFor();
    assert.ok(wallet.calls.includes("eth_requestAccounts"));
    assert.match(await page.locator(".wallet .account").getAttribute("title"), new RegExp(stack.citizen.address, "i"));
    // The seeded consent shows its purpose's name, not its hash.
    const seeded = page.locator("#consents .card", { hasText: "Scientific research" });
    await seeded.waitFor();
    assert.match(await seeded.innerText(), /active/i);
    assert.match(await seeded.innerText(), new RegExp(`Dataset ${stack.datasets.clinics}`));
    // "Who used my data": the release's Merkle proof is checked in the page.
    const release = page.locator("#used .card");
    await release.waitFor();
    assert.equal(await release.getAttribute("data-verified"), "true");
    assert.match(await release.innerText(), /Proof checked in this page/);
    assert.deepEqual(await unlabelledControls(page), []);
    await shot(page, "citizen");
  });

  test("grant by transaction: wallet -> pending -> mined -> indexed, then listed", { timeout: 60_000 }, async () => {
    await recordTxStates(page);
    const form = page.locator("#grant-form");
    await form.getByLabel("Purpose").selectOption({ label: "Public benefit" });
    await form.getByLabel("Scope").selectOption({ label: "A whole domain" });
    await form.getByLabel("Domain").selectOption({ label: "Environment" });
    await form.getByLabel("Any accredited researcher").check();
    await form.getByLabel("Transaction from my wallet (I pay the gas)").check();
    await form.getByRole("button", { name: "Grant consent" }).click();
    const { state, text } = await txOutcome(page, "Grant consent");
    assert.equal(state, "indexed", text);
    assert.deepEqual(await txStates(page, "Grant consent"), ["wallet", "pending", "mined", "indexed"]);
    assert.ok(wallet.calls.includes("eth_sendTransaction"));
    const card = page.locator("#consents .card", { hasText: "Public benefit" });
    await card.waitFor();
    assert.match(await card.innerText(), /Domain: Environment/);
    assert.match(await card.innerText(), /Any accredited researcher/);
    await shot(page, "citizen-granted-tx");
  });

  test("grant by signature: signed in the wallet, submitted by the relayer", { timeout: 60_000 }, async () => {
    await recordTxStates(page);
    const form = page.locator("#grant-form");
    await form.getByLabel("Purpose").selectOption({ label: "Academic research" });
    await form.getByLabel("Scope").selectOption({ label: "One dataset" });
    await form.getByLabel("Dataset id").fill(String(stack.datasets.trips_v2));
    await form.getByLabel("One specific address").check();
    await form.getByLabel("Grantee address").fill(stack.researcher);
    await form.getByLabel("Free: sign a message, the city's relayer submits it").check();
    await form.getByRole("button", { name: "Grant consent" }).click();
    const { state, text, entry } = await txOutcome(page, "Grant consent \\(signature\\)");
    assert.equal(state, "indexed", text);
    assert.deepEqual(await txStates(page, "Grant consent (signature)"), ["signing", "relaying", "pending", "mined", "indexed"]);
    assert.ok(wallet.calls.includes("eth_signTypedData_v4"));
    // The relayer paid: the transaction is not from the citizen.
    const hash = await entry.locator("code.hash").getAttribute("title");
    const tx = await rpc(stack.rpc, "eth_getTransactionByHash", [hash]);
    assert.equal(tx.result.from.toLowerCase(), stack.relayer.toLowerCase());
    const card = page.locator("#consents .card", { hasText: "Academic research" });
    await card.waitFor();
    assert.match(await card.innerText(), new RegExp(`Dataset ${stack.datasets.trips_v2}`));
  });

  test("a rejected signature says so and changes nothing", { timeout: 30_000 }, async () => {
    const before = await page.locator("#consents .card").count();
    wallet.reject = "eth_signTypedData_v4";
    try {
      const form = page.locator("#grant-form");
      await form.getByLabel("Purpose").selectOption({ label: "Marketing" });
      await form.getByLabel("Free: sign a message, the city's relayer submits it").check();
      await form.getByRole("button", { name: "Grant consent" }).click();
      const { state, text } = await txOutcome(page, "Grant consent \\(signature\\)");
      assert.equal(state, "failed");
      assert.match(text, /You rejected the request in your wallet/);
    } finally {
      wallet.reject = null;
    }
    assert.equal(await page.locator("#consents .card").count(), before);
    assert.equal(await page.locator("#consents .card", { hasText: "Marketing" }).count(), 0);
  });

  test("a tampered proof from the server is caught by the page", { timeout: 30_000 }, async () => {
    // The page must not trust the API: flip one byte of the first proof element.
    await page.route("**/api/citizens/*/used?*", async (route) => {
      const response = await route.fetch();
      const body = await response.json();
      const p = body.items[0].proof[0];
      body.items[0].proof[0] = p.slice(0, -1) + (p.endsWith("0") ? "1" : "0");
      await route.fulfill({ response, json: body });
    });
    try {
      await page.reload();
      const release = page.locator("#used .card");
      await release.waitFor();
      assert.equal(await release.getAttribute("data-verified"), "false");
      assert.match(await release.innerText(), /does not match the root logged on chain/);
    } finally {
      await page.unroute("**/api/citizens/*/used?*");
      await page.reload();
      await page.locator("#used .card[data-verified=true]").waitFor();
    }
  });

  test("revoke: one by signature, one by transaction", { timeout: 90_000 }, async () => {
    const academic = page.locator("#consents .card", { hasText: "Academic research" });
    await academic.getByRole("button", { name: /by signature/ }).click();
    let outcome = await txOutcome(page, "Revoke consent \\(signature\\)");
    assert.equal(outcome.state, "indexed", outcome.text);
    await page.locator("#consents .card[data-state=revoked]", { hasText: "Academic research" }).waitFor();

    const benefit = page.locator("#consents .card", { hasText: "Public benefit" });
    await benefit.getByRole("button", { name: /by transaction/ }).click();
    outcome = await txOutcome(page, "Revoke consent");
    assert.equal(outcome.state, "indexed", outcome.text);
    await page.locator("#consents .card[data-state=revoked]", { hasText: "Public benefit" }).waitFor();
    // Filter: only the active one is left.
    await page.locator("#consents").getByLabel("Show").selectOption("active");
    await page.locator("#consents .card").first().waitFor();
    assert.deepEqual(await page.locator("#consents .card[data-state=active] h3").allTextContents(), ["Scientific research active"]);
    assert.equal(await page.locator("#consents .card").count(), 1);
    await page.locator("#consents").getByLabel("Show").selectOption("all");
    await page.locator("#consents .card[data-state=revoked]").nth(1).waitFor();
    await shot(page, "citizen-revoked");
  });

  test("rights request: a revert shows the contract's reason; a valid one gets a deadline", { timeout: 60_000 }, async () => {
    const form = page.locator("#rights-form");
    await form.getByLabel("Right").selectOption({ label: "Erasure" });
    await form.getByLabel("Against").selectOption({ label: "A dataset" });
    await form.getByLabel("Dataset id").fill("9999");
    await form.getByLabel("Details for the publisher").fill("Please erase my records.");
    await form.getByRole("button", { name: "File the request" }).click();
    let outcome = await txOutcome(page, "File rights request");
    assert.equal(outcome.state, "failed");
    assert.match(outcome.text, /The contract refused: \S+/);

    await form.getByLabel("Dataset id").fill(String(stack.datasets.clinics));
    await form.getByRole("button", { name: "File the request" }).click();
    outcome = await txOutcome(page, "File rights request");
    assert.equal(outcome.state, "indexed", outcome.text);
    await form.getByRole("link", { name: "Download your receipt" }).waitFor();
    const card = page.locator("#rights .card", { hasText: "Erasure request" });
    await card.waitFor();
    assert.match(await card.innerText(), /Open/);
    assert.match(await card.innerText(), /Answer due by .*\(30 days left\)/);
    assert.deepEqual(errors, []);
    await shot(page, "citizen-rights");
  });

  test("the publisher's answer shows on the citizen's request", { timeout: 60_000 }, async () => {
    // The agency answers from its own (unlocked devnet) account, outside the page.
    const { contracts } = await (await fetch(`${stack.api}/api/deployment`)).json();
    const rights = contracts.RightsRegistry;
    const publisher = createWalletClient({ account: stack.agency, transport: http(stack.rpc) });
    const chain = createPublicClient({ transport: http(stack.rpc) });
    const hash = await publisher.writeContract({
      address: rights.address, abi: rights.abi, functionName: "answer_request", chain: null,
      args: [1n, true, keccak256(toHex("export sent"))],
    });
    const receipt = await chain.waitForTransactionReceipt({ hash });
    assert.equal(receipt.status, "success");
    await page.waitForFunction(async (block) => {
      const s = await (await fetch("/api/status")).json();
      return s.last_indexed_block >= block;
    }, Number(receipt.blockNumber));
    await page.reload();
    const card = page.locator("#rights .card", { hasText: "Erasure request" });
    await card.locator(".badge", { hasText: /fulfilled/i }).waitFor();
    assert.match(await card.innerText(), /answer hash 0x/);
  });

  test("phone-sized citizen page", { timeout: 30_000 }, async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await page.locator("#consents .card").first().waitFor();
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    assert.ok(width <= 390, `the citizen page is ${width}px wide on a 390px screen`);
    await shot(page, "phone-citizen");
  });
});

test("wrong-chain wallet: message, then switch (adding the devnet on 4902)", { timeout: 60_000 }, async () => {
  const { page, context, wallet } = await newPage({
    wallet: { rpcUrl: stack.rpc, privateKey: stack.citizen.key, chainId: 1, knownChains: [1] },
  });
  await page.goto(`${stack.api}/#/citizen`);
  await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
  await page.getByRole("heading", { name: "Wrong network" }).waitFor();
  assert.match(await page.locator("#wrong-chain").innerText(), new RegExp(`network 1;.*network ${stack.chain_id}`));
  await shot(page, "wrong-chain");
  await page.locator("main").getByRole("button", { name: "Switch to the CityLedger network" }).click();
  await page.getByRole("heading", { name: "Grant consent" }).waitFor();
  assert.ok(wallet.calls.includes("wallet_switchEthereumChain"));
  assert.equal(Number(wallet.added.chainId), stack.chain_id);
  assert.equal(wallet.added.rpcUrls[0], stack.rpc);
  await context.close();
});

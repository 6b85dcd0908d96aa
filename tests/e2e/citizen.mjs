// The citizen's journey in a real browser with an injected test wallet, against the whole stack:
// read before you sign, grant (transaction and signature), dates and who submitted each change,
// withdraw, history, receipts (download and check), cancel signatures, who used my data, rights
// requests with their answers; and the problems the outside test found, each pinned.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createPublicClient, createWalletClient, http } from "viem";
import { axeViolations, docShot, newPage, rpc, shot, smallTargets } from "./harness.mjs";
import { settled, unlabelledControls } from "./public.mjs";

const PHONE = { width: 390, height: 844 };

const DESKTOP = { width: 1400, height: 900 };

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

/** Wait for the newest transaction entry with this label to end (indexed or failed). */
async function txOutcome(page, label) {
  const entry = page.locator(".tx", { has: page.locator("strong", { hasText: new RegExp(`^${label}$`) }) }).first();
  await entry.locator("xpath=self::*[@data-state='indexed' or @data-state='failed']").waitFor({ timeout: 45_000 });
  return { state: await entry.getAttribute("data-state"), text: await entry.innerText(), entry };
}

/** Every button's accessible name inside a part of the page (from the accessibility tree). */
async function buttonNames(locator) {
  const names = [];
  for (let line of (await locator.ariaSnapshot()).split("\n")) {
    line = line.trim();
    // YAML: a line holding a quote is itself single-quoted, with '' for each '.
    if (line.startsWith("- '")) line = `- ${line.slice(3, line.lastIndexOf("'")).replaceAll("''", "'")}`;
    const m = line.match(/^- button "(.*?)"(?=(?: \[[^\]]*\])*(?::|$))/);
    if (m) names.push(m[1]);
  }
  return names;
}

/** Is the element's centre the element itself (or inside it), not something drawn over it? */
function reachable(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    const top = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
    return !!top && (top === el || el.contains(top));
  });
}

function inViewport(locator) {
  return locator.evaluate((el) => {
    const r = el.getBoundingClientRect();
    return r.top >= 0 && r.bottom <= window.innerHeight;
  });
}

const focusedCard = (page) => page.evaluate(() => ({ id: document.activeElement?.id ?? "", text: document.activeElement?.innerText ?? "" }));

/** A figure of docs/WEB.md at 1400 and 390 px, `what` brought into view at each width. */
async function docShots(page, name, what) {
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport);
    await what.evaluate((el) => el.scrollIntoView({ block: "center" }));
    await docShot(page, `${name}-${viewport.width}`);
  }
  await page.setViewportSize(DESKTOP);
}

async function waitIndexed(page, block) {
  await page.waitForFunction(async (b) => (await (await fetch("/api/status")).json()).last_indexed_block >= b, Number(block));
}

export function citizenJourney(running) {
  describe("citizen with a wallet", () => {
    let stack;
    let page;
    let context;
    let errors;
    let wallet;
    let abis;
    let earlyAcademicReceipt;
    let benefitReceipt;

    before(async () => {
      stack = running.stack;
      ({ page, context, errors, wallet } = await newPage(running.browser, {
        wallet: { rpcUrl: stack.rpc, privateKey: stack.citizen.key, chainId: stack.chain_id },
      }));
      abis = (await (await fetch(`${stack.api}/api/deployment`)).json()).contracts;
    });
    after(async () => context?.close());

    const form = () => page.locator("#grant-form");
    const card = (text) => page.locator("#consents .card", { hasText: text });

    test("connect: each consent in one sentence, with its dates; who used my data, checked in the page", { timeout: 60_000 }, async () => {
      await page.goto(`${stack.api}/#/citizen`);
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
      await page.getByRole("heading", { name: "Grant consent" }).waitFor();
      assert.ok(wallet.calls.includes("eth_requestAccounts"));
      assert.match(await page.locator(".wallet .account").getAttribute("title"), new RegExp(stack.citizen.address, "i"));
      const clinic = card("Clinic visits by district 2024");
      await clinic.waitFor();
      assert.match(
        await clinic.locator(".consent-sentence").innerText(),
        new RegExp(`^Any accredited researcher may use your data in 'Clinic visits by district 2024' \\(dataset #${stack.datasets.clinics}\\) for scientific research until \\d{1,2} \\w+ \\d{4}\\. You can revoke at any time, free of charge\\.$`),
      );
      assert.match(await clinic.innerText(), /Granted\s+.+ by you/);
      assert.match(await clinic.innerText(), /Valid until\s+\d{1,2} \w+ \d{4}/);
      // Who used my data: the release's Merkle proof is checked in the page; the jargon is tucked away.
      const release = page.locator("#used .card");
      await release.waitFor();
      assert.equal(await release.getAttribute("data-verified"), "true");
      const visible = await release.innerText();
      assert.match(visible, /'Clinic visits by district 2024' was given to .*you among them/s);
      assert.match(visible, /Checked in this page/);
      // The k the release reached, as the ledger records it, in words.
      assert.match(visible, /the details which could single you out \(such as age or district\) are shared with at least 1 other person in it: no one can be picked out from fewer than 2 people \(k = 2\)\./);
      assert.doesNotMatch(visible, /snapshot at block|root 0x|Merkle/);
      await release.locator("summary", { hasText: "Technical details" }).click();
      assert.match(await release.innerText(), /Consent checked as it stood at block \d+/);
      assert.deepEqual(await unlabelledControls(page), []);
    });

    test("two consents for the same purpose: every button has a name of its own", { timeout: 30_000 }, async () => {
      const consents = page.locator("#consents .card");
      await page.waitForFunction(() => document.querySelectorAll("#consents .card").length >= 2);
      assert.equal(await page.locator("#consents .card", { hasText: "Scientific research" }).count(), 2);
      const names = await buttonNames(page.locator("#consents"));
      const withdraw = names.filter((n) => n.startsWith("Withdraw consent"));
      assert.equal(withdraw.length, 2, names.join("\n"));
      assert.equal(new Set(names).size, names.length, `repeated accessible names:\n${names.join("\n")}`);
      assert.ok(await consents.count());
    });

    test("a validation message goes as soon as the input changes; nothing reaches the wallet", { timeout: 30_000 }, async () => {
      const f = form();
      const calls = wallet.calls.length;
      await f.getByLabel("One organisation").check();
      const address = f.getByLabel("The organisation's address");
      await address.fill("0x12");
      await f.getByRole("button", { name: "Grant consent" }).click();
      const error = f.locator(".form-message .error");
      await error.waitFor();
      assert.match(await error.innerText(), /must be 0x followed by 40 characters/);
      assert.equal(await address.getAttribute("aria-invalid"), "true");
      await address.fill(stack.researcher);
      await error.waitFor({ state: "detached" });
      assert.equal(await address.getAttribute("aria-invalid"), null);
      // A dataset number the catalogue does not know is refused here, before the wallet is asked.
      await f.getByLabel("What it covers").selectOption({ label: "One dataset" });
      await f.getByLabel("Dataset number").fill("9999");
      await page.waitForFunction(() => document.querySelector("#grant-sentence")?.textContent.includes("dataset #9999 (not in the catalogue)"));
      await f.getByRole("button", { name: "Grant consent" }).click();
      await error.waitFor();
      assert.match(await error.innerText(), /There is no dataset with that number/);
      assert.equal(wallet.calls.length, calls, "the wallet was asked");
      await f.getByLabel("Dataset number").fill("");
      await error.waitFor({ state: "detached" });
      await f.getByLabel("Any accredited researcher").check();
    });

    test("read before you sign: one sentence, on screen when the wallet asks; then granted by transaction", { timeout: 60_000 }, async () => {
      await recordTxStates(page);
      const f = form();
      await f.getByLabel("What for").selectOption({ label: "Public benefit" });
      await f.getByLabel("What it covers").selectOption({ label: "One dataset" });
      await f.getByLabel("Dataset number").fill(String(stack.datasets.trips_v2));
      await f.getByLabel("Any accredited researcher").check();
      await f.getByLabel("Valid until").fill("2027-12-01");
      await f.getByLabel("Transaction from my wallet (I pay a small network fee)").check();
      const sentence = `Any accredited researcher may use your data in 'Bus trips per route 2024' (dataset #${stack.datasets.trips_v2}) for public benefit until 1 December 2027. You can revoke at any time, free of charge.`;
      await page.waitForFunction((t) => document.querySelector("#grant-sentence")?.textContent === t, sentence);
      let shown = null;
      wallet.onPrompt = async () => {
        shown = await page.evaluate(() => document.querySelector("#grant-sentence")?.textContent);
      };
      try {
        await f.getByRole("button", { name: "Grant consent" }).click();
        const { state, text } = await txOutcome(page, "Grant consent");
        assert.equal(state, "indexed", text);
      } finally {
        wallet.onPrompt = null;
      }
      assert.equal(shown, sentence, "the sentence on screen when the wallet asked");
      assert.deepEqual(await txStates(page, "Grant consent"), ["wallet", "pending", "mined", "indexed"]);
      assert.ok(wallet.calls.includes("eth_sendTransaction"));
      // Focus goes to the new consent, which is brought into view (it used to fall to <body>).
      await page.waitForFunction(() => document.activeElement?.classList.contains("consent"));
      const focused = await focusedCard(page);
      assert.match(focused.text, /Public benefit/);
      const granted = page.locator(`[id="${focused.id}"]`);
      assert.ok(await inViewport(granted), "the new consent is in view");
      assert.match(await granted.innerText(), /Granted\s+.+ by you/);
      assert.match(await granted.innerText(), /Valid until\s+1 December 2027/);
      await shot(page, "citizen-granted-tx");
    });

    test("grant by signature: signed in the wallet, submitted by the relayer, and said so", { timeout: 60_000 }, async () => {
      await recordTxStates(page);
      const f = form();
      await f.getByLabel("What for").selectOption({ label: "Academic research" });
      await f.getByLabel("What it covers").selectOption({ label: "One dataset" });
      await f.getByLabel("Dataset number").fill(String(stack.datasets.trips_v2));
      await f.getByLabel("One organisation").check();
      await f.getByLabel("The organisation's address").fill(stack.researcher);
      await f.getByLabel("Free: sign a message, the city's relayer submits it").check();
      await page.waitForFunction(() => /^Transport Research Institute may use your data in 'Bus trips/.test(document.querySelector("#grant-sentence")?.textContent ?? ""));
      await f.getByRole("button", { name: "Grant consent" }).click();
      const { state, text, entry } = await txOutcome(page, "Grant consent \\(signature\\)");
      assert.equal(state, "indexed", text);
      assert.deepEqual(await txStates(page, "Grant consent (signature)"), ["signing", "relaying", "pending", "mined", "indexed"]);
      assert.ok(wallet.calls.includes("eth_signTypedData_v4"));
      // The relayer paid: the transaction is not from the citizen.
      const hash = await entry.locator("code.hash").getAttribute("title");
      const tx = await rpc(stack.rpc, "eth_getTransactionByHash", [hash]);
      assert.equal(tx.result.from.toLowerCase(), stack.relayer.toLowerCase());
      const academic = card("Academic research");
      await academic.waitFor();
      assert.match(await academic.innerText(), /Granted\s+.+ by the city's relayer, with your signature/);
      // Its receipt now, to check later once the consent has changed.
      earlyAcademicReceipt = await (await fetch(`${stack.api}/api/consents/${await academic.getAttribute("data-key")}/receipt`)).text();
    });

    test("a rejected signature says so next to the form and changes nothing", { timeout: 30_000 }, async () => {
      const before = await page.locator("#consents .card").count();
      wallet.reject = "eth_signTypedData_v4";
      try {
        const f = form();
        await f.getByLabel("What for").selectOption({ label: "Marketing" });
        await f.getByLabel("Free: sign a message, the city's relayer submits it").check();
        await f.getByRole("button", { name: "Grant consent" }).click();
        const { state, text } = await txOutcome(page, "Grant consent \\(signature\\)");
        assert.equal(state, "failed");
        assert.match(text, /You rejected the request in your wallet/);
        assert.match(await f.locator(".form-message").innerText(), /You rejected the request in your wallet/);
      } finally {
        wallet.reject = null;
      }
      assert.equal(await page.locator("#consents .card").count(), before);
      assert.equal(await page.locator("#consents .card", { hasText: "Marketing" }).count(), 0);
    });

    test("at 390 px the transactions panel covers no control, and finished entries clear themselves", { timeout: 45_000 }, async () => {
      await page.setViewportSize(PHONE);
      try {
        // Successes leave the panel by themselves; the failure of the last test stays until dismissed.
        await page.locator(".tx[data-state=indexed]").first().waitFor({ state: "detached", timeout: 15_000 }).catch(() => undefined);
        assert.equal(await page.locator(".tx[data-state=indexed]").count(), 0, "a finished entry stayed");
        assert.equal(await page.locator(".tx[data-state=failed]").count(), 1);
        const dismiss = page.locator(".tx-dismiss").first();
        assert.deepEqual(await smallTargets(page), []);
        await dismiss.click();
        await page.locator(".tx").first().waitFor({ state: "detached" });
        // The Grant button at the bottom of the screen, as after scrolling down the form; then an
        // attempt whose entry stays in the panel (the wallet refuses): the button is not covered.
        const grant = form().getByRole("button", { name: "Grant consent" });
        await grant.evaluate((el) => el.scrollIntoView({ block: "end" }));
        wallet.reject = "eth_signTypedData_v4";
        try {
          await form().getByLabel("Free: sign a message, the city's relayer submits it").check();
          await grant.click();
          assert.equal((await txOutcome(page, "Grant consent \\(signature\\)")).state, "failed");
        } finally {
          wallet.reject = null;
        }
        await grant.focus();
        assert.ok(await reachable(grant), "the transactions panel covers the Grant button");
        await page.locator(".tx-dismiss").first().click();
      } finally {
        await page.setViewportSize(DESKTOP);
      }
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
        assert.match(await release.innerText(), /does not match the ledger's record/);
      } finally {
        await page.unroute("**/api/citizens/*/used?*");
        await page.reload();
        await page.locator("#used .card[data-verified=true]").waitFor();
      }
    });

    test("withdraw: the sentence first; each change says who submitted it; focus stays on the consent", { timeout: 90_000 }, async () => {
      const benefit = card("Public benefit");
      await benefit.getByRole("button", { name: /^Withdraw consent…/ }).click();
      const confirm = benefit.locator(".confirm");
      assert.match(
        await confirm.locator(".sentence").innerText(),
        new RegExp(`^From the moment your withdrawal is recorded, any accredited researcher may no longer use your data in 'Bus trips per route 2024' \\(dataset #${stack.datasets.trips_v2}\\) for public benefit\\.`),
      );
      await confirm.getByRole("button", { name: /^Withdraw for free/ }).click();
      let outcome = await txOutcome(page, "Revoke consent \\(signature\\)");
      assert.equal(outcome.state, "indexed", outcome.text);
      const revoked = page.locator("#consents .card[data-state=revoked]", { hasText: "Public benefit" });
      await revoked.waitFor();
      // Granted by the citizen's own transaction, withdrawn by the relayer on the citizen's signature.
      assert.match(await revoked.innerText(), /Granted\s+.+ by you/);
      assert.match(await revoked.innerText(), /Withdrawn\s+.+ by the city's relayer, with your signature/);
      assert.match(await revoked.locator(".consent-sentence").innerText(), /^You withdrew this consent on \d{1,2} \w+ \d{4}: any accredited researcher may no longer use/);
      await page.waitForFunction(() => document.activeElement?.classList.contains("consent") && document.activeElement.innerText.includes("Public benefit"));

      const academic = card("Academic research");
      await academic.getByRole("button", { name: /^Withdraw consent…/ }).click();
      await academic.getByRole("button", { name: /^Withdraw with a transaction/ }).click();
      outcome = await txOutcome(page, "Revoke consent");
      assert.equal(outcome.state, "indexed", outcome.text);
      const academicRevoked = page.locator("#consents .card[data-state=revoked]", { hasText: "Academic research" });
      await academicRevoked.waitFor();
      assert.match(await academicRevoked.innerText(), /Granted\s+.+ by the city's relayer, with your signature/);
      assert.match(await academicRevoked.innerText(), /Withdrawn\s+.+ by you/);

      // The filter keeps its place and the focus while the list changes under it.
      const filter = page.locator("#consents").getByLabel("Show");
      await filter.focus();
      await filter.selectOption("active");
      await page.waitForFunction(() => [...document.querySelectorAll("#consents .card")].every((c) => c.dataset.state === "active"));
      assert.equal(await page.locator("#consents .card").count(), 2);
      assert.equal(await page.evaluate(() => document.activeElement?.getAttribute("name")), "state");
      await filter.selectOption("all");
      await page.locator("#consents .card[data-state=revoked]").nth(1).waitFor();
      await shot(page, "citizen-revoked");
    });

    test("history: every change with its time, submitter and transaction; the receipt downloads", { timeout: 60_000 }, async () => {
      await card("Public benefit").getByRole("link", { name: /^History and receipt/ }).click();
      await page.getByRole("heading", { name: "Consent: Public benefit" }).waitFor();
      await settled(page);
      const changes = page.locator(".history .change");
      assert.equal(await changes.count(), 2);
      assert.match(await changes.nth(0).innerText(), /Consent granted, valid until 1 December 2027\s+Submitted by you · transaction 0x/);
      assert.match(await changes.nth(1).innerText(), /Consent withdrawn\s+Submitted by the city's relayer, with your signature · transaction 0x/);
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator("#receipt-download").click()]);
      assert.match(download.suggestedFilename(), /^consent-receipt-[0-9a-f]{8}-\d+\.jsonld$/);
      benefitReceipt = readFileSync(await download.path(), "utf8");
      const receipt = JSON.parse(benefitReceipt);
      assert.equal(receipt.status, "dpv:ConsentWithdrawn");
      assert.deepEqual(receipt.events.map((e) => [e.change, e.byRelayer]), [["granted", false], ["revoked", true]]);
      assert.equal(receipt.dataSubject.address, stack.citizen.address.toLowerCase());
    });

    test("a receipt is checked in the page: genuine, tampered (the field named), out of date", { timeout: 60_000 }, async () => {
      await page.goto(`${stack.api}/#/verify`);
      await settled(page);
      const check = async (name, text) => {
        await page.setInputFiles("#receipt-file", { name, mimeType: "application/ld+json", buffer: Buffer.from(text) });
        const verdict = page.locator("#receipt-result .verdict");
        await page.waitForFunction((n) => document.querySelector("#receipt-result .verdict")?.textContent.includes(n), name);
        return { verdict: await verdict.getAttribute("data-verdict"), field: await verdict.getAttribute("data-field"), text: await verdict.innerText() };
      };
      let v = await check("benefit.jsonld", benefitReceipt);
      assert.equal(v.verdict, "VALID", v.text);
      assert.match(v.text, /Genuine and current/);
      await docShots(page, "journey-6-receipt-check", page.locator("#receipt-result"));
      const tampered = JSON.parse(benefitReceipt);
      tampered.events[1].submittedBy = stack.citizen.address.toLowerCase();
      v = await check("tampered.jsonld", JSON.stringify(tampered));
      assert.deepEqual([v.verdict, v.field], ["INVALID", "events.1.submittedBy"], v.text);
      const longer = JSON.parse(benefitReceipt);
      longer.processing.expiry += 86400;
      v = await check("longer.jsonld", JSON.stringify(longer));
      assert.deepEqual([v.verdict, v.field], ["INVALID", "processing.expiry"], v.text);
      v = await check("academic-before.jsonld", earlyAcademicReceipt);
      assert.equal(v.verdict, "OUTDATED", v.text);
      assert.match(v.text, /Download the current receipt/);
      assert.deepEqual(await axeViolations(page), []);
    });

    test("cancel signatures I gave: explained, sent, said done on the card, listed in the history", { timeout: 60_000 }, async () => {
      await page.goto(`${stack.api}/#/citizen`);
      const transport = card("every transport dataset");
      await transport.waitFor();
      const button = transport.getByRole("button", { name: /^Cancel signatures I gave for this consent/ });
      assert.match(await transport.locator(".cancel-sigs .hint").innerText(), /stays usable until its deadline.*The consent itself does not change/s);
      await button.click();
      const outcome = await txOutcome(page, "Cancel signatures");
      assert.equal(outcome.state, "indexed", outcome.text);
      // The refreshed card says it is done, keeps the focus, and the consent is unchanged.
      const again = card("every transport dataset");
      assert.match(await again.locator(".form-message .ok").innerText(), /^Done: every signature you gave/);
      await page.waitForFunction(() => document.activeElement?.classList.contains("consent") && document.activeElement.innerText.includes("every transport dataset"));
      assert.equal(await again.getAttribute("data-state"), "active");
      // The history lists it, submitted by the citizen.
      await again.getByRole("link", { name: /^History and receipt/ }).click();
      await settled(page);
      const last = page.locator(".history .change").last();
      assert.match(await last.innerText(), /Signatures cancelled: any signature not yet recorded became useless\s+Submitted by you · transaction 0x/);
      await page.goto(`${stack.api}/#/citizen`);
      await page.locator("#rights-form").waitFor();
    });

    test("rights requests: the new rights explained; a refusal in plain words next to the form; filed", { timeout: 90_000 }, async () => {
      const f = page.locator("#rights-form");
      const right = f.getByLabel("Right");
      const labels = await right.locator("option").allTextContents();
      assert.deepEqual(labels.slice(-2), ["Information", "Automated decision"]);
      await right.selectOption({ label: "Information" });
      assert.match(await f.locator(".field .hint").first().innerText(), /right to be informed \(Art\. 13 and 14\)/);
      await right.selectOption({ label: "Automated decision" });
      assert.match(await f.locator(".field .hint").first().innerText(), /solely by automated processing.*\(Art\. 22\)/);

      await right.selectOption({ label: "Erasure" });
      await f.getByLabel("About").selectOption({ label: "A dataset" });
      await f.getByLabel("Dataset number").fill("9999");
      await f.getByLabel("Your request, in your words").fill("Please erase my records.");
      await f.getByRole("button", { name: "File the request" }).click();
      let outcome = await txOutcome(page, "File rights request");
      assert.equal(outcome.state, "failed");
      // The contract's "rights: unknown dataset", in plain words, next to the form.
      const message = f.locator(".form-message");
      assert.match(await message.innerText(), /There is no dataset with that number/);
      assert.doesNotMatch(await message.innerText(), /rights: unknown dataset/);
      assert.doesNotMatch(outcome.text, /rights: unknown dataset/);

      await f.getByLabel("Dataset number").fill(String(stack.datasets.clinics));
      await message.locator(".error").waitFor({ state: "detached" });
      await page.waitForFunction(() => /^You ask .+ to erase the data about you in 'Clinic visits by district 2024'/.test(document.querySelector("#rights-sentence")?.textContent ?? ""));
      await f.getByRole("button", { name: "File the request" }).click();
      outcome = await txOutcome(page, "File rights request");
      assert.equal(outcome.state, "indexed", outcome.text);
      await f.getByRole("link", { name: "Download your receipt" }).waitFor();
      assert.equal(await page.evaluate(() => document.activeElement?.id), "rights-filed");
      const erasure = page.locator("#rights .card", { hasText: "Erasure request" });
      await erasure.waitFor();
      assert.match(await erasure.innerText(), /Open/);
      assert.match(await erasure.innerText(), /Answer due by .*\(30 days left\)/);

      // The right to be informed (kind 7): filed.
      await right.selectOption({ label: "Information" });
      await f.getByLabel("Your request, in your words").fill("What do you hold about me, and why?");
      await f.getByRole("button", { name: "File the request" }).click();
      outcome = await txOutcome(page, "File rights request");
      assert.equal(outcome.state, "indexed", outcome.text);
      await page.locator("#rights .card", { hasText: "Information request" }).waitFor();
      assert.deepEqual(errors, []);
    });

    test("the publisher's answer: shown as text after its hash is checked in the page; rejected explained", { timeout: 90_000 }, async () => {
      const rights = abis.RightsRegistry;
      const publisher = createWalletClient({ account: stack.agency, transport: http(stack.rpc) });
      const chain = createPublicClient({ transport: http(stack.rpc) });
      const sha256 = (text) => createHash("sha256").update(text).digest("hex");
      // The publisher answers on chain with the answer document's SHA-256 (outcome 2 fulfilled, 5 rejected).
      const answerRequest = async (id, outcome, text) => {
        const hash = await publisher.writeContract({
          address: rights.address, abi: rights.abi, functionName: "answer_request", chain: null, args: [BigInt(id), outcome, `0x${sha256(text)}`],
        });
        const receipt = await chain.waitForTransactionReceipt({ hash });
        assert.equal(receipt.status, "success");
        await waitIndexed(page, receipt.blockNumber);
      };
      const answer = "Your clinic visit records were erased on 3 December.\nNo copy was kept.\n";
      await answerRequest(1, 2, answer);
      const erasure = page.locator("#rights .card", { hasText: "Erasure request" });
      const reload = async () => {
        await page.reload();
        await erasure.locator(".badge", { hasText: /fulfilled/i }).waitFor();
      };
      // Not in this server's store (GET /api/documents/{hash} answers 404): said to be elsewhere.
      await reload();
      await erasure.locator(".answer-missing").waitFor();
      assert.match(await erasure.innerText(), /not available here/);
      // Kept in the content-addressed store, as the publisher's tool does (`<sha256>.txt`): the page
      // fetches it, checks its SHA-256 against the hash on chain and shows the text.
      writeFileSync(join(stack.metadata_dir, `${sha256(answer)}.txt`), answer);
      await reload();
      await erasure.locator(".answer-text").waitFor();
      assert.equal(await erasure.locator(".answer-text").textContent(), answer);
      assert.match(await erasure.innerText(), /checked against its hash on the ledger/);
      await docShots(page, "journey-7-rights", erasure);
      // A server that hands out another document under that hash: not shown.
      await page.route("**/api/documents/*", (route) => route.fulfill({ body: "Your records were NOT erased.\n", contentType: "text/plain; charset=utf-8" }));
      try {
        await reload();
        await erasure.locator(".answer-mismatch").waitFor();
        assert.equal(await erasure.locator(".answer-text").count(), 0);
      } finally {
        await page.unroute("**/api/documents/*");
      }

      // Outcome 5, rejected (not from a data subject, or manifestly unfounded): explained.
      await answerRequest(2, 5, "We hold no data about this address.\n");
      await page.reload();
      const information = page.locator("#rights .card", { hasText: "Information request" });
      await information.locator(".badge", { hasText: /rejected/i }).waitFor();
      assert.match(await information.innerText(), /not coming from the person the data is about, or as manifestly unfounded or excessive \(GDPR Art\. 12\(5\)\)/);
    });

    test("organisations by name on every card, with the address kept", { timeout: 60_000 }, async () => {
      await page.reload();
      const transport = card("every transport dataset");
      await transport.waitFor();
      assert.match(await transport.locator(".consent-sentence").innerText(), /^Transport Research Institute may use your data in every transport dataset for scientific research until /);
      const grantee = transport.locator(".facts .org");
      assert.equal(await grantee.innerText(), "Transport Research Institute");
      assert.equal((await grantee.getAttribute("title")).toLowerCase(), stack.researcher.toLowerCase());
      const release = page.locator("#used .card");
      assert.match(await release.innerText(), /was given to Transport Research Institute/);
      assert.match(await release.innerText(), /City Services Agency gave data about 4 people/);
      assert.match(await page.locator("#rights .card", { hasText: "Erasure request" }).innerText(), /To City Services Agency about dataset #/);
    });

    test("every citizen view at 1400 and 390 px: no axe-core violation, 44 px targets, no sideways scrolling", { timeout: 120_000 }, async () => {
      const key = await card("Public benefit").getAttribute("data-key");
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        for (const [hash, name] of [["#/citizen", "citizen"], [`#/consent/${key}`, "consent"]]) {
          await page.goto(`${stack.api}/${hash}`);
          await settled(page);
          if (name === "citizen") {
            await page.locator("#consents .card").first().waitFor();
            await page.locator("#used .card").waitFor();
            // The withdrawal's confirmation open, too.
            await card("Clinic visits").getByRole("button", { name: /^Withdraw consent…/ }).click();
          }
          assert.deepEqual(await axeViolations(page), [], `${hash} at ${viewport.width}px`);
          assert.deepEqual(await smallTargets(page), [], `${hash} at ${viewport.width}px: targets under 44 px`);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= viewport.width, `${hash} is ${width}px wide on a ${viewport.width}px screen`);
          await shot(page, `${viewport.width}-${name}`);
        }
        // The figures of docs/WEB.md.
        await page.goto(`${stack.api}/#/citizen`);
        await page.locator("#used .card").waitFor();
        await page.evaluate(() => window.scrollTo(0, 0));
        await docShot(page, `journey-4-my-data-${viewport.width}`);
        await page.locator("#grant-form .summary").evaluate((el) => el.scrollIntoView({ block: "end" }));
        await docShot(page, `journey-3-grant-${viewport.width}`);
        await page.goto(`${stack.api}/#/consent/${key}`);
        await settled(page);
        await page.locator("#history").evaluate((el) => el.scrollIntoView({ block: "start" }));
        await docShot(page, `journey-5-history-${viewport.width}`);
      }
      await page.setViewportSize(DESKTOP);
    });

    test("Disconnect survives a reload", { timeout: 30_000 }, async () => {
      await page.goto(`${stack.api}/#/citizen`);
      await page.locator(".wallet .account").waitFor();
      await page.locator(".wallet").getByRole("button", { name: "Disconnect wallet from this page" }).click();
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).waitFor();
      await page.reload();
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).waitFor();
      await page.waitForTimeout(500); // a late reconnection would show the account now
      assert.equal(await page.locator(".wallet .account").count(), 0);
      assert.deepEqual(await axeViolations(page), []);
      // Connecting again is the citizen's choice, and works.
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
      await page.locator(".wallet .account").waitFor();
      assert.deepEqual(errors, []);
    });
  });

  test("wrong-chain wallet: plain words, details tucked away, then switch (adding the devnet on 4902)", { timeout: 60_000 }, async () => {
    const stack = running.stack;
    for (const viewport of [DESKTOP, PHONE]) {
      const { page, context, wallet } = await newPage(running.browser, {
        viewport,
        wallet: { rpcUrl: stack.rpc, privateKey: stack.citizen.key, chainId: 1, knownChains: [1] },
      });
      await page.goto(`${stack.api}/#/citizen`);
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
      await page.getByRole("heading", { name: "Wrong network" }).waitFor();
      const text = await page.locator("#wrong-chain").innerText();
      assert.match(text, /another network than CityLedger devnet/);
      assert.doesNotMatch(text, /\d{3,}/, "no chain ids in the message itself");
      await page.locator("summary", { hasText: "Technical details" }).click();
      assert.match(await page.locator("details.tech").innerText(), new RegExp(`chain id: 1\\. .*chain id: ${stack.chain_id}`));
      assert.deepEqual(await axeViolations(page), [], `wrong network at ${viewport.width}px`);
      assert.deepEqual(await smallTargets(page), []);
      await shot(page, `${viewport.width}-wrong-chain`);
      await page.locator("main").getByRole("button", { name: "Switch to CityLedger devnet" }).click();
      await page.getByRole("heading", { name: "Grant consent" }).waitFor();
      assert.ok(wallet.calls.includes("wallet_switchEthereumChain"));
      assert.equal(Number(wallet.added.chainId), stack.chain_id);
      assert.equal(wallet.added.rpcUrls[0], stack.rpc);
      await context.close();
    }
  });
}


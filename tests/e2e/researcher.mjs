// The researcher's data room in a real browser with the injected test wallet, against the whole
// stack (the real data-room routes): sign in by EIP-4361 (a forged and a stale message refused in
// plain words), the access grant with its expiry, a release made, downloaded through its link and
// checked against the delivery record, private questions answered from the grant's privacy budget
// (a count and a mean with their ranges, one over budget refused), a deletion obligation confirmed on chain, access requested,
// an open dataset downloaded, a session that ended said so, sign-out, an overdue obligation confirmed
// late (the chain moved 31 days on: the suite's last test); axe-core at both widths.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { axeViolations, docShot, newPage, rpc, smallTargets } from "./harness.mjs";
import { unlabelledControls } from "./public.mjs";

const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1400, height: 900 };

const sha256 = (bytes) => `0x${createHash("sha256").update(bytes).digest("hex")}`;

/** axe-core, 44 px targets and no sideways scrolling at both widths, with a figure for docs/WEB.md. */
async function checkWidths(page, name, what) {
  for (const viewport of [DESKTOP, PHONE]) {
    await page.setViewportSize(viewport);
    assert.deepEqual(await axeViolations(page), [], `${name} at ${viewport.width}px: axe-core`);
    assert.deepEqual(await smallTargets(page), [], `${name} at ${viewport.width}px: targets under 44 px`);
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `${name} at ${viewport.width}px scrolls sideways`);
    await what.evaluate((el) => el.scrollIntoView({ block: "start" }));
    await docShot(page, `dataroom-${name}-${viewport.width}`);
  }
  await page.setViewportSize(DESKTOP);
}

async function txOutcome(page, label) {
  const entry = page.locator(".tx", { has: page.locator("strong", { hasText: new RegExp(`^${label}$`) }) }).first();
  await entry.locator("xpath=self::*[@data-state='indexed' or @data-state='failed']").waitFor({ timeout: 45_000 });
  return { state: await entry.getAttribute("data-state"), text: await entry.innerText() };
}

const sessionStatus = (page) => page.evaluate(async () => (await fetch("/api/auth/session")).status);

export function researcherJourney(running) {
  describe("data room: a researcher with a wallet", () => {
    let stack;
    let page;
    let context;
    let errors;
    let wallet;
    let releaseId;

    before(async () => {
      stack = running.stack;
      ({ page, context, errors, wallet } = await newPage(running.browser, {
        wallet: { rpcUrl: stack.rpc, privateKey: stack.researcher_key, chainId: stack.chain_id },
      }));
    });
    after(async () => context?.close());

    const signInButton = () => page.locator("#signin-button");

    test("signed out: open data to download, then connect; a forged and a stale sign-in are refused in plain words", { timeout: 60_000 }, async () => {
      await page.goto(`${stack.api}/#/dataroom`);
      await page.getByRole("heading", { name: "Open data: download" }).waitFor();
      await page.locator("#open-data .card").first().waitFor();
      await page.locator("main").getByRole("button", { name: "Connect wallet" }).click();
      await signInButton().waitFor();
      // Before the wallet is asked: what signing in does, the account by its organisation's name.
      assert.match(await page.locator("#signin-sentence").innerText(), /^Signing in proves to CityLedger that you hold the account Transport Research Institute\. .*costs nothing/);
      await checkWidths(page, "1-signin", page.locator("#signin"));

      // A forged signature (another key signs): refused by the server, said in plain words, nobody signed in.
      wallet.signWith = stack.citizen.key;
      await signInButton().click();
      const error = page.locator("#signin-message .error");
      await error.waitFor();
      assert.match(await error.innerText(), /The signature does not belong to the account you sign in with, so you were not signed in/);
      assert.equal(await sessionStatus(page), 401);
      wallet.signWith = null;

      // A stale message (issued an hour ago, expired half an hour ago, as from a tab left open): refused.
      await page.route("**/api/auth/nonce", async (route) => {
        const response = await route.fetch();
        const body = await response.json();
        const iso = (s) => new Date(Date.now() - s * 1000).toISOString().replace(/\.\d{3}Z$/, "Z");
        body.message = body.message.replace(/Issued At: .*/, `Issued At: ${iso(3600)}`).replace(/Expiration Time: .*/, `Expiration Time: ${iso(1800)}`);
        await route.fulfill({ response, json: body });
      });
      await signInButton().click();
      await page.waitForFunction(() => /expired before it reached CityLedger/.test(document.querySelector("#signin-message")?.textContent ?? ""));
      assert.match(await error.innerText(), /Nothing was shared\. Sign in again\./);
      assert.equal(await sessionStatus(page), 401);
      await page.unroute("**/api/auth/nonce");
      assert.deepEqual(errors, []);
    });

    test("sign in by EIP-4361: the server's message for this site and chain, signed with personal_sign", { timeout: 60_000 }, async () => {
      let shown = null;
      wallet.onPrompt = async (method) => {
        if (method === "personal_sign") shown = await page.locator("#signin-sentence").innerText();
      };
      await signInButton().click();
      await page.locator("#account").waitFor();
      wallet.onPrompt = null;
      assert.match(shown ?? "", /costs nothing/, "the sentence was not on screen when the wallet asked");
      const signed = wallet.signed.at(-1);
      const host = new URL(stack.api).host;
      assert.ok(signed.startsWith(`${host} wants you to sign in with your Ethereum account:\n${stack.researcher}\n`), signed);
      assert.match(signed, new RegExp(`\\nChain ID: ${stack.chain_id}\\n`));
      assert.match(await page.locator("#account").innerText(), /Signed in as Transport Research Institute \(researcher\) until /);
      assert.equal(await sessionStatus(page), 200);
      // The session cookie is HttpOnly: the page's script cannot read it.
      assert.equal(await page.evaluate(() => document.cookie.includes("cityledger_session")), false);
    });

    test("my access: the grant with its expiry in the reader's words, the publisher by name", { timeout: 30_000 }, async () => {
      const card = page.locator(`#access-${stack.access_id}`);
      await card.waitFor();
      assert.equal(await card.getAttribute("data-live"), "true");
      assert.match(
        await card.locator(".grant-sentence").innerText(),
        new RegExp(`^City Services Agency lets you use 'Clinic visits by district 2024' \\(dataset #${stack.datasets.clinics}\\) for scientific research until \\d{1,2} \\w+ \\d{4}\\.$`),
      );
      assert.match(await card.innerText(), /Valid until\s+\d{1,2} \w+ \d{4}/);
      assert.deepEqual(await unlabelledControls(page), []);
    });

    test("a release: made under the live grant, downloaded through its link; the bytes' SHA-256 is the delivery record's", { timeout: 90_000 }, async () => {
      // The release is as of the last final block: let the seeded state become final.
      await rpc(stack.rpc, "anvil_mine", ["0x3"]);
      const card = page.locator(`#access-${stack.access_id}`);
      const calls = wallet.calls.length;
      assert.match(await card.locator(".explain").innerText(), /Your wallet is not asked and it costs you nothing/);
      await card.getByRole("button", { name: "Get a release of the data" }).click();
      const made = card.locator(".release-made");
      await made.waitFor({ timeout: 60_000 });
      assert.equal(wallet.calls.length, calls, "the wallet was asked");
      const text = await made.innerText();
      const m = text.match(/Release #(\d+) is ready: (\d+) of (\d+) rows, from the (\d+) (?:person|people) whose consent covers your use/);
      assert.ok(m, text);
      releaseId = Number(m[1]);
      // Beside it, how the consenting people's rows differ from all rows (the declared profile).
      assert.match(text, /Whom this release describes[\s\S]*By district: the consenting rows differ from all rows by [\d.]+ % .*north: 50 % of the consenting, [\d.]+ % of all; south: 50 % of the consenting/);
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("release-made")), true, "focus on the new release");
      const [download] = await Promise.all([page.waitForEvent("download"), made.getByRole("button", { name: `Download release #${releaseId}` }).click()]);
      const bytes = readFileSync(await download.path());
      assert.equal(download.suggestedFilename(), `release-${releaseId}.csv`);
      await made.locator(".ok", { hasText: "Its SHA-256 matches the release recorded on the ledger" }).waitFor();
      const body = bytes.toString("utf8");
      assert.ok(body.startsWith("subject,district,visits\n"), body);
      for (const leaver of stack.leavers) assert.ok(!body.toLowerCase().includes(leaver.toLowerCase()), "a citizen who revoked is in the release");
      // The delivery record: who, which release, bytes and SHA-256 of exactly what was saved.
      const deliveries = await (await fetch(`${stack.api}/api/deliveries?release_id=${releaseId}`)).json();
      assert.equal(deliveries.total, 1);
      const d = deliveries.items[0];
      assert.equal(d.recipient, stack.researcher.toLowerCase());
      assert.equal(d.sha256, sha256(bytes));
      assert.equal(d.bytes, bytes.length);
      // ... and the ledger's release hash.
      const releases = await (await fetch(`${stack.api}/api/releases?grantee=${stack.researcher}`)).json();
      assert.equal(releases.items.find((r) => r.release_id === releaseId)?.release_hash, sha256(bytes));
      // The history lists it.
      const row = page.locator(`#deliveries .delivery[data-release="${releaseId}"]`);
      await row.waitFor();
      assert.match(await row.innerText(), new RegExp(`release #${releaseId} of 'Clinic visits by district 2024'`));
      await checkWidths(page, "2-release", page.locator(`#access-${stack.access_id}`));
      assert.deepEqual(errors, []);
    });

    test("private questions: a count and a mean with their 95 % ranges and the budget going down, the mean compared with everyone; too large an epsilon refused, nothing spent", { timeout: 120_000 }, async () => {
      const card = page.locator(`#access-${stack.access_id}`);
      const form = card.locator("form.private-query");
      const budget = card.locator(".budget");
      const total = stack.privacy_budget;
      await page.waitForFunction((t) => document.querySelector(".private-query .budget")?.textContent === `Privacy budget: ${t} of ${t} left (0 spent).`, total);
      const calls = wallet.calls.length;
      // Only declared columns are offered, and only those the statistic can measure (the subject never).
      await form.getByLabel("What to compute").selectOption({ label: "Average (mean)" });
      assert.deepEqual(await form.getByLabel("Of which column").locator("option").allTextContents(), ["visits"]);
      await form.getByLabel("What to compute").selectOption({ label: "Rows per category or range (histogram)" });
      assert.deepEqual(await form.getByLabel("Of which column").locator("option").allTextContents(), ["district", "visits"]);
      await form.getByLabel("What to compute").selectOption({ label: "How many rows (count)" });
      assert.equal(await form.getByLabel("Of which column").isVisible(), false);

      const ask = async (eps, spends = eps) => {
        await form.getByLabel(/^Epsilon:/).fill(eps);
        assert.match(await form.locator(".pq-sentence").innerText(), new RegExp(`It spends ${spends} of your privacy budget\\. Your wallet is not asked`));
        const before = await card.locator(".private-answer").count();
        await form.getByRole("button", { name: "Ask privately" }).click();
        return before;
      };
      const answered = async (before) => {
        await page.waitForFunction(([id, n]) => document.querySelectorAll(`#access-${id} .private-answer`).length > n, [stack.access_id, before], { timeout: 60_000 });
        return card.locator(".private-answer").first();
      };
      const interval = (text, what) => {
        const m = text.match(new RegExp(`${what}: about (-?[\\d.,]+)\\. We are 95 % sure the true value is between (-?[\\d.,]+) and (-?[\\d.,]+)\\.`));
        assert.ok(m, text);
        const [value, low, high] = m.slice(1).map((x) => Number(x.replace(/,/g, "")));
        assert.ok(low <= value && value <= high, text);
        return { value, low, high };
      };

      // A count at epsilon 4.
      let answer = await answered(await ask("4"));
      let text = await answer.innerText();
      interval(text, "Rows");
      assert.match(text, new RegExp(`This answer spent 4 of your privacy budget: ${total - 4} of ${total} left\\.`));
      assert.match(text, /Only the rows of the 4 people whose consent covers your use count\./);
      assert.match(text, /The publisher says the dataset covers: Test data: six pseudonymous patients/);
      assert.equal(await budget.innerText(), `Privacy budget: ${total - 4} of ${total} left (4 spent).`);
      assert.equal(await page.evaluate(() => document.activeElement?.classList.contains("private-answer")), true, "focus on the answer");

      assert.match(text, /No comparison with everyone in the dataset was asked/);

      // A mean of the visits at epsilon 8, compared with everyone in the dataset at epsilon 1 more.
      await form.getByLabel("What to compute").selectOption({ label: "Average (mean)" });
      await form.getByLabel(/^Epsilon for comparing/).fill("1");
      answer = await answered(await ask("8", "9"));
      text = await answer.innerText();
      const mean = interval(text, "Average of visits");
      assert.ok(mean.low >= 0 && mean.high <= 20, text); // within the declared bounds
      assert.match(text, new RegExp(`This answer spent 9 of your privacy budget: ${total - 13} of ${total} left\\.`));
      assert.match(text, /By district: the consenting rows differ from all rows by [\d.]+ % .*north: [\d.]+ % of the consenting, [\d.]+ % of all; south: /);
      assert.equal(await budget.innerText(), `Privacy budget: ${total - 13} of ${total} left (13 spent).`);
      await form.getByLabel(/^Epsilon for comparing/).fill("");
      assert.equal(wallet.calls.length, calls, "the wallet was asked");
      // Both answers are on the ledger, with what they spent (once the index has them).
      const indexed = async (queries) => {
        for (let i = 0; i < 60; i++) {
          const b = await (await fetch(`${stack.api}/api/access/${stack.access_id}/budget`)).json();
          if (b.queries === queries) return b;
          await new Promise((r) => setTimeout(r, 500));
        }
        assert.fail(`the index never showed ${queries} private answers`);
      };
      assert.equal((await indexed(2)).spent, "13");
      await checkWidths(page, "4-private", card.locator(".private-query-box"));

      // More than is left: refused in plain words, before anything is computed; the budget unchanged.
      await ask("5");
      const error = form.locator(".form-message .error");
      await error.waitFor({ timeout: 30_000 });
      assert.equal(await error.innerText(),
        `This question would spend 5 of your privacy budget, but only ${total - 13} is left. It was refused before anything was computed: nothing was spent. Ask with a smaller epsilon, or ask the publisher to raise the budget.`);
      assert.equal(await card.locator(".private-answer").count(), 2);
      assert.equal(await budget.innerText(), `Privacy budget: ${total - 13} of ${total} left (13 spent).`);
      assert.equal((await indexed(2)).spent, "13");
      assert.deepEqual(await unlabelledControls(page), []);

      // A reload (the session's cookie keeps it signed in) shows both answers, newest first: the data
      // room keeps each one it gave, so an answer is not lost with the page (nor with a dropped connection).
      await page.reload();
      await page.locator("#account").waitFor();
      await page.waitForFunction((id) => document.querySelectorAll(`#access-${id} .private-answer`).length === 2, stack.access_id, { timeout: 30_000 });
      const kept = await page.locator(`#access-${stack.access_id} .private-answer`).allInnerTexts();
      assert.match(kept[0], new RegExp(`This answer spent 9 of your privacy budget: ${total - 13} of ${total} were left after it\\.`));
      assert.match(kept[1], new RegExp(`This answer spent 4 of your privacy budget: ${total - 4} of ${total} were left after it\\.`));
      assert.deepEqual(errors, []);
    });

    test("the wallet switched to another account than the one signed in: the page says so, and not after switching back", { timeout: 30_000 }, async () => {
      await page.evaluate((a) => window.ethereum._emit("accountsChanged", [a]), stack.citizen.address);
      const mismatch = page.locator("#wallet-mismatch");
      await mismatch.waitFor();
      assert.match(await mismatch.innerText(), /Your wallet now shows another account \(0x976ea7…0aa9\)/i);
      await page.evaluate((a) => window.ethereum._emit("accountsChanged", [a]), stack.researcher);
      await mismatch.waitFor({ state: "detached" });
    });

    test("a release the data room did not make is said so, not served", { timeout: 30_000 }, async () => {
      // Release 1 was logged by the publisher itself (stack.py): its file is not in the data room.
      const button = page.locator(`#access-${stack.access_id} .download-release[data-release="1"]`);
      await button.click();
      await page.locator(`#access-${stack.access_id} .download:has(.download-release[data-release="1"]) .error`).waitFor();
      assert.match(await page.locator(`#access-${stack.access_id} .download:has(.download-release[data-release="1"])`).innerText(), /was not made by this data room/);
    });

    test("a deletion obligation: what it asks, then confirmed on chain from the wallet with the record's fingerprint", { timeout: 90_000 }, async () => {
      const card = page.locator("#obligation-1");
      await card.waitFor();
      assert.equal(await card.getAttribute("data-status"), "open");
      const sentence = await card.locator(".obligation-sentence").innerText();
      assert.match(sentence, /City Services Agency asked on \d{1,2} \w+ \d{4}\. Delete the rows and confirm by \d{1,2} \w+ \d{4} \(\d+ days left\)\./);
      assert.match(await card.locator("h3").innerText(), /^Delete the rows of person 0x/);
      await card.getByRole("button", { name: /^Confirm deletion…/ }).click();
      await checkWidths(page, "3-obligation", card);
      const record = await card.getByLabel("Your deletion record").inputValue();
      assert.match(record, new RegExp(stack.leavers[0].toLowerCase()));
      let shown = null;
      wallet.onPrompt = async (method) => {
        if (method === "eth_sendTransaction") shown = await card.locator(".confirm .sentence").innerText();
      };
      await card.getByRole("button", { name: "Confirm on the ledger" }).click();
      const outcome = await txOutcome(page, "Confirm deletion");
      wallet.onPrompt = null;
      assert.equal(outcome.state, "indexed", outcome.text);
      assert.match(shown ?? "", /You confirm on the ledger, for everyone to see, that you deleted every row of this person/);
      await page.locator("#obligation-1[data-status='confirmed']").waitFor();
      assert.match(await page.locator("#obligation-1").innerText(), /Confirmed on \d{1,2} \w+ \d{4}\./);
      const listed = await (await fetch(`${stack.api}/api/obligations?recipient=${stack.researcher}`)).json();
      const o = listed.items.find((x) => x.obligation_id === 1);
      assert.equal(o.status, "confirmed");
      assert.equal(o.evidence_hash, sha256(Buffer.from(record, "utf8")));
      assert.equal(await page.evaluate(() => document.activeElement?.id), "obligation-1");
    });

    test("request access: the sentence first, an empty form refused next to it, then the request on chain", { timeout: 90_000 }, async () => {
      const form = page.locator("#access-form");
      const calls = wallet.calls.length;
      await form.getByLabel("Dataset number").fill(String(stack.datasets.energy));
      await form.getByLabel("What for").selectOption({ label: "Scientific research" });
      await page.waitForFunction((id) => document.querySelector("#access-sentence")?.textContent.includes(`'Electricity grid load 2024' (dataset #${id})`), stack.datasets.energy);
      // The business has no public profile: its shortened address stands in the sentence.
      assert.match(await page.locator("#access-sentence").innerText(), /^You ask the organisation at 0x3c44cd…93bc for access to 'Electricity grid load 2024'/i);
      await form.getByRole("button", { name: "Ask for access" }).click();
      const error = form.locator(".form-message .error");
      await error.waitFor();
      assert.match(await error.innerText(), /Write your terms of use/);
      assert.equal(await form.getByLabel("Your terms of use").getAttribute("aria-invalid"), "true");
      assert.equal(wallet.calls.length, calls, "the wallet was asked");
      const terms = "Grid load study; aggregate results only; raw data deleted after 90 days.";
      await form.getByLabel("Your terms of use").fill(terms);
      await error.waitFor({ state: "detached" });
      await form.getByRole("button", { name: "Ask for access" }).click();
      const outcome = await txOutcome(page, "Ask for access");
      assert.equal(outcome.state, "indexed", outcome.text);
      const card = page.locator("#grants .card[data-status='requested']").first();
      await card.waitFor();
      assert.match(await card.locator(".grant-sentence").innerText(), /^You asked the organisation at 0x3c44cd…93bc for 'Electricity grid load 2024' .* Waiting for its answer\.$/i);
      const listed = await (await fetch(`${stack.api}/api/access?grantee=${stack.researcher}&status=requested`)).json();
      assert.equal(listed.items.at(-1).dataset_id, stack.datasets.energy);
      assert.equal(listed.items.at(-1).terms_hash, sha256(Buffer.from(terms, "utf8")));
    });

    test("open data: downloaded as the registered bytes; a file not in the data room is said so", { timeout: 30_000 }, async () => {
      const card = page.locator(`#open-${stack.datasets.trips_v2}`);
      const [download] = await Promise.all([page.waitForEvent("download"), card.getByRole("link", { name: /^Download/ }).click()]);
      assert.equal(sha256(readFileSync(await download.path())), stack.hashes.trips_v2);
      // The hostile publisher registered its file by hand: it is not in the store.
      assert.match(await page.locator(`#open-${stack.datasets.hostile}`).innerText(), /Its file is not in this data room/);
      // Its title (a right-to-left override, markup) is inert text isolated from the dataset number.
      const hostile = page.locator(`#open-${stack.datasets.hostile} h3`);
      assert.equal(await hostile.locator("bdi.user-text[dir=auto]").textContent(), stack.hostile_title);
      assert.match(await hostile.textContent(), new RegExp(`' \\(dataset #${stack.datasets.hostile}\\)$`));
      assert.equal(await hostile.locator("img").count(), 0);
    });

    test("a session that ended is said so, with Sign in again; then sign out", { timeout: 60_000 }, async () => {
      // The server forgets the session (expired, or signed out in another tab): the next action says so.
      const cookies = await context.cookies();
      await context.clearCookies();
      const button = page.locator(`#access-${stack.access_id} .download-release[data-release="${releaseId}"]`);
      await button.click();
      await page.locator("#session-ended").waitFor();
      assert.match(await page.locator("#session-ended").innerText(), /Your sign-in has ended .* Sign in again to continue\./);
      await signInButton().waitFor();
      await context.addCookies(cookies.filter((c) => c.name !== "cityledger_session"));
      await signInButton().click();
      await page.locator("#account").waitFor();
      assert.equal(await page.locator("#session-ended").count(), 0);
      // Sign out: the server ends the session, the page offers to sign in again.
      await page.getByRole("button", { name: "Sign out" }).click();
      await signInButton().waitFor();
      assert.equal(await sessionStatus(page), 401);
      assert.deepEqual(errors, []);
    });

    test("the session's end time: the page says it expired when it does", { timeout: 60_000 }, async () => {
      const { page: p2, context: c2, wallet: w2 } = await newPage(running.browser, {
        wallet: { rpcUrl: stack.rpc, privateKey: stack.researcher_key, chainId: stack.chain_id },
      });
      try {
        await p2.clock.install();
        await p2.goto(`${stack.api}/#/dataroom`);
        await p2.locator("main").getByRole("button", { name: "Connect wallet" }).click();
        await p2.locator("#signin-button").click();
        await p2.locator("#account").waitFor();
        assert.ok(w2.calls.includes("personal_sign"));
        await p2.clock.fastForward("01:00:05");
        await p2.locator("#session-ended").waitFor();
        assert.match(await p2.locator("#session-ended").innerText(), /^Your sign-in expired at .+: sessions are short, so that a forgotten browser does not stay signed in\. Sign in again to continue\.$/);
      } finally {
        await c2.close();
      }
    });

    // Last: it moves the chain's clock 31 days on, past every obligation's deadline.
    test("an obligation past its deadline: listed first as overdue, then confirmed late", { timeout: 90_000 }, async () => {
      await rpc(stack.rpc, "evm_increaseTime", [31 * 86400]);
      await rpc(stack.rpc, "anvil_mine", ["0x1"]);
      const head = Number((await rpc(stack.rpc, "eth_blockNumber", [])).result);
      await page.waitForFunction(async (b) => (await (await fetch("/api/status")).json()).last_indexed_block >= b, head);
      await page.reload();
      await signInButton().click();
      await page.locator("#account").waitFor();
      const first = page.locator("#obligations .card").first();
      await first.waitFor();
      assert.equal(await first.getAttribute("id"), "obligation-2");
      assert.equal(await first.getAttribute("data-status"), "overdue");
      assert.match(await first.locator(".obligation-sentence").innerText(), /Overdue: the deadline was \d{1,2} \w+ \d{4}\. Delete the rows and confirm now\./);
      await first.getByRole("button", { name: /^Confirm deletion…/ }).click();
      await first.getByRole("button", { name: "Confirm on the ledger" }).click();
      const outcome = await txOutcome(page, "Confirm deletion");
      assert.equal(outcome.state, "indexed", outcome.text);
      const late = page.locator("#obligation-2[data-status='confirmed-late']");
      await late.waitFor();
      assert.match(await late.innerText(), /Confirmed on \d{1,2} \w+ \d{4}, after the deadline\./);
      const listed = await (await fetch(`${stack.api}/api/obligations?recipient=${stack.researcher}`)).json();
      assert.equal(listed.items.find((x) => x.obligation_id === 2).status, "confirmed late");
      assert.deepEqual(errors, []);
    });
  });
}

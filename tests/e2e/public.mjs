// The public pages in a real browser (Debian's chromium) against the whole stack: catalogue, dataset
// page, verify a file, statistics, no wallet; accessibility (axe-core, keyboard, touch targets) and
// phone width; publisher text shown defensively; organisations by name.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { axeViolations, docShot, newPage, shot, smallTargets } from "./harness.mjs";

const WIDTHS = [
  { width: 1400, height: 900 },
  { width: 390, height: 844 },
];

/** The form controls on the page that no label and no aria-label names (as HTML, for the message). */
export function unlabelledControls(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")].filter((el) => !el.labels?.length && !el.getAttribute("aria-label")).map((el) => el.outerHTML),
  );
}

/** Wait until the view has rendered (the router clears aria-busy when it is done). */
export async function settled(page) {
  await page.locator("main h1").first().waitFor();
  await page.locator("#main:not([aria-busy])").waitFor();
}

export function publicPages(running) {
  describe("public pages", () => {
    let stack;
    const open = (opts) => newPage(running.browser, opts);

    test("catalogue: list, filter by domain, search, dataset page with provenance", { timeout: 60_000 }, async () => {
      stack = running.stack;
      const { page, errors, context } = await open();
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
      assert.match(await versions.nth(0).innerText(), new RegExp(`Version 1 \\(dataset #${stack.datasets.trips_v1}\\).*superseded`, "is"));
      assert.match(await page.locator("section", { hasText: "Attestations" }).innerText(), /Quality/);
      await shot(page, "dataset");

      // The clinic data: four citizens consented to scientific research on it.
      await page.goto(`${stack.api}/#/dataset/${stack.datasets.clinics}`);
      const row = page.locator("table.counts tr", { hasText: "Scientific research" });
      await row.waitFor();
      assert.equal((await row.locator("td").innerText()).trim(), "4");
      // Their share of the people in the file: over the data room's kept, privacy-protected count
      // (noisy: the expected words come from the API's own estimate).
      const shareDoc = await (await fetch(`${stack.api}/api/datasets/${stack.datasets.clinics}/consent-counts`)).json();
      const people = shareDoc.population;
      const sci = shareDoc.counts.find((c) => c.purpose_name === "ScientificResearch");
      assert.ok(people && sci.share !== null, "the clinic data declares cl:profileEpsilon: a share is shown");
      const est = people.estimate;
      const pm = Math.max(people.high - est, est - people.low);
      const part = sci.share_capped
        ? `more than the ~${est} people this file is estimated to hold, so the share is shown as 100 % (consents can come from people who are not in the file)`
        : `about ${Math.round(sci.share * 100)} % of the ~${est} people in this file`;
      assert.equal(
        (await page.locator("ul.shares li", { hasText: "scientific research" }).innerText()).trim(),
        `4 people have consented to scientific research: ${part} (the number of people is a privacy-protected estimate, ±${pm}).`,
      );
      // What it covers, as its publisher declared it: period, place and the sampled population.
      const coverage = await page.locator("section", { has: page.getByRole("heading", { name: "What it covers" }) }).innerText();
      assert.match(coverage, /Period\s+2024-01-01 to 2024-12-31/);
      assert.match(coverage, /Place\s+CityLedger city/);
      assert.match(coverage, /Sampled population\s+Test data: six pseudonymous patients of the city's public clinics in 2024\./);
      assert.deepEqual(errors, []);
      await context.close();
    });

    test("a superseded version names its successor by dataset number and version", { timeout: 30_000 }, async () => {
      // The outside test saw "Superseded by: version 5" on dataset 1: 5 was the dataset number.
      const { page, context } = await open();
      await page.goto(`${stack.api}/#/dataset/${stack.datasets.trips_v1}`);
      await settled(page);
      const fact = page.locator(".facts dt", { hasText: "Superseded by" }).locator("xpath=following-sibling::dd[1]");
      assert.equal((await fact.innerText()).trim(), `dataset #${stack.datasets.trips_v2} (version 2)`);
      assert.equal(await fact.locator("a").getAttribute("href"), `#/dataset/${stack.datasets.trips_v2}`);
      await context.close();
    });

    test("organisations by name: publishers, auditors, linked to their datasets; else the address", { timeout: 60_000 }, async () => {
      const { page, context } = await open();
      // Without a profile an organisation shows as its shortened address (as for any address the
      // registry does not know), with the whole address on hover.
      await page.goto(`${stack.api}/#/dataset/${stack.datasets.energy}`);
      await settled(page);
      const publisher = page.locator(".facts dt", { hasText: /^Publisher$/ }).locator("xpath=following-sibling::dd[1]").locator(".org");
      assert.equal((await publisher.getAttribute("title")).toLowerCase(), stack.business.toLowerCase());
      assert.match(await publisher.innerText(), /^0x[0-9a-fA-F]{6}…[0-9a-fA-F]{4}$/);
      // With one, its name, from the registry (GET /api/organisations), the address kept.
      await page.goto(`${stack.api}/#/catalogue`);
      await page.locator("#results .card").first().waitFor();
      const card = page.locator("#results .card", { hasText: "Clinic visits by district 2024" });
      const org = card.locator(".org");
      assert.equal(await org.innerText(), "City Services Agency");
      assert.equal((await org.getAttribute("data-address")).toLowerCase(), stack.agency.toLowerCase());
      assert.equal(await org.getAttribute("href"), `#/catalogue?publisher=${stack.agency.toLowerCase()}`);
      await page.goto(`${stack.api}/#/dataset/${stack.datasets.trips_v2}`);
      await settled(page);
      const link = page.locator(".facts a.org");
      assert.equal(await link.innerText(), "City Services Agency");
      assert.match(await page.locator("section", { hasText: "Attestations" }).innerText(), /Quality by Civic Data Audit/);
      // The publisher's name leads to its other datasets.
      await link.click();
      await page.waitForURL(/publisher=/);
      await page.locator("#results .card").first().waitFor();
      assert.match(await page.locator("#results > p.muted").innerText(), /published by City Services Agency/);
      await context.close();
    });

    test("publisher text is shown as inert, isolated, wrapped text", { timeout: 30_000 }, async () => {
      for (const viewport of WIDTHS) {
        const { page, context, errors } = await open({ viewport });
        let dialogs = 0;
        page.on("dialog", (d) => {
          dialogs += 1;
          d.dismiss();
        });
        await page.goto(`${stack.api}/#/dataset/${stack.datasets.hostile}`);
        await settled(page);
        const title = page.locator("main h1 bdi");
        // The markup stays text; the override is isolated in a bdi of its own direction.
        assert.equal(await title.textContent(), stack.hostile_title);
        assert.equal(await title.getAttribute("dir"), "auto");
        assert.equal(await page.locator("main img").count(), 0);
        assert.equal(dialogs, 0);
        const width = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(width <= viewport.width, `a 20,000-character word makes the page ${width}px wide at ${viewport.width}px`);
        // What follows the title reads left to right: the override does not leak out of it.
        const bidi = await page.evaluate(() => getComputedStyle(document.querySelector("main h1 bdi")).unicodeBidi);
        assert.equal(bidi, "isolate");
        await page.goto(`${stack.api}/#/catalogue`);
        await page.locator("#results .card").first().waitFor();
        const cardTitle = page.locator("#results .card h2 bdi", { hasText: "report" });
        assert.equal(await cardTitle.getAttribute("dir"), "auto");
        const w2 = await page.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(w2 <= viewport.width, `the catalogue is ${w2}px wide at ${viewport.width}px`);
        assert.deepEqual(errors, []);
        await context.close();
      }
    });

    test("verify a file: dropped, chosen with the file input, unknown", { timeout: 60_000 }, async () => {
      const { page, errors, context } = await open();
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
      const { page, errors, context } = await open();
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

    test("no wallet installed: a clear message that links to wallets", { timeout: 30_000 }, async () => {
      const { page, context } = await open();
      await page.goto(`${stack.api}/#/citizen`);
      await page.getByRole("heading", { name: "No wallet found" }).waitFor();
      assert.match(await page.locator("#no-wallet").innerText(), /browser wallet/);
      // The outside test found the wallets' names as plain text: they are links.
      for (const [name, url] of [["MetaMask", "https://metamask.io/"], ["Rabby", "https://rabby.io/"]])
        assert.equal(await page.locator("#no-wallet").getByRole("link", { name }).getAttribute("href"), url);
      await context.close();
    });

    test("keyboard: skip link first, visible focus, labelled controls", { timeout: 30_000 }, async () => {
      const { page, context } = await open();
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

    test("every public view: no axe-core violation, 44 px touch targets, no sideways scrolling", { timeout: 120_000 }, async () => {
      for (const viewport of WIDTHS) {
        const { page, context } = await open({ viewport });
        const views = [
          ["#/catalogue", "catalogue", null],
          [`#/dataset/${stack.datasets.trips_v2}`, "dataset", null],
          ["#/verify", "verify", null],
          ["#/stats", "statistics", async () => page.locator("details.chart-table summary").first().click()],
          ["#/citizen", "no-wallet", null],
        ];
        for (const [hash, name, prepare] of views) {
          await page.goto(`${stack.api}/${hash}`);
          await settled(page);
          await prepare?.();
          assert.deepEqual(await axeViolations(page), [], `${hash} at ${viewport.width}px`);
          assert.deepEqual(await smallTargets(page), [], `${hash} at ${viewport.width}px: targets under 44 px`);
          const width = await page.evaluate(() => document.documentElement.scrollWidth);
          assert.ok(width <= viewport.width, `${hash} is ${width}px wide on a ${viewport.width}px screen`);
          await shot(page, `${viewport.width}-${name}`);
          if (name === "catalogue" || name === "dataset") {
            await page.evaluate(() => window.scrollTo(0, 0));
            await docShot(page, `journey-${name === "catalogue" ? 1 : 2}-${name}-${viewport.width}`);
          }
        }
        await context.close();
      }
    });
  });
}

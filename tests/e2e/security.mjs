// Hostile-page defences in a real browser (Debian's chromium) against the whole stack: the security
// headers hold (no Content-Security-Policy violation on any view, the page cannot be framed by another
// site), /docs is Swagger UI from this server only, and a crafted #/dataset/... link cannot make the
// page fetch other same-origin paths.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { watchErrors } from "./harness.mjs";

export function security(running) {
  describe("security", () => {
    /** A page that records CSP violations (in window.__csp) and every request it makes. */
    async function watchedPage() {
      const context = await running.browser.newContext();
      const page = await context.newPage();
      const errors = watchErrors(page);
      const requests = [];
      page.on("request", (r) => requests.push(r.url()));
      await page.addInitScript(() => {
        window.__csp = [];
        document.addEventListener("securitypolicyviolation", (e) => window.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
      });
      return { context, page, errors, requests };
    }

    test("headers on the page, its assets, the API and /docs", { timeout: 30_000 }, async () => {
      const { context, page } = await watchedPage();
      const page1 = await page.goto(`${running.stack.api}/`);
      const asset = await page.locator("script[type=module]").getAttribute("src");
      for (const [what, res] of [
        ["page", page1],
        ["asset", await page.request.get(new URL(asset, `${running.stack.api}/`).href)],
        ["api", await page.request.get(`${running.stack.api}/api/status`)],
        ["api error", await page.request.get(`${running.stack.api}/api/datasets/999999`)],
        ["docs", await page.request.get(`${running.stack.api}/docs`)],
      ]) {
        const h = res.headers();
        assert.match(h["content-security-policy"] ?? "", /frame-ancestors 'none'/, what);
        assert.match(h["content-security-policy"] ?? "", /script-src 'self'(;|$)/, what);
        assert.equal(h["x-frame-options"], "DENY", what);
        assert.equal(h["x-content-type-options"], "nosniff", what);
        assert.equal(h["referrer-policy"], "no-referrer", what);
      }
      const head = await page.request.head(`${running.stack.api}/api/status`);
      assert.equal(head.status(), 200);
      assert.equal((await head.body()).length, 0);
      await context.close();
    });

    test("every view works under the policy: no violation, no error", { timeout: 60_000 }, async () => {
      const { context, page, errors } = await watchedPage();
      await page.goto(`${running.stack.api}/#/catalogue`);
      await page.locator("#results .card").first().waitFor();
      await page.goto(`${running.stack.api}/#/dataset/${running.stack.datasets.trips_v2}`);
      await page.getByRole("heading", { name: "Versions and provenance" }).waitFor();
      await page.goto(`${running.stack.api}/#/stats`);
      await page.locator("svg").first().waitFor();
      await page.goto(`${running.stack.api}/#/verify`);
      await page.goto(`${running.stack.api}/#/dataroom`);
      await page.locator("#open-data .card").first().waitFor();
      await page.goto(`${running.stack.api}/#/citizen`);
      await page.waitForTimeout(500);
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(errors, []);
      await context.close();
    });

    test("another site cannot frame the page (its consent buttons)", { timeout: 30_000 }, async () => {
      const { context, page } = await watchedPage();
      // A page of another origin (about:blank here) that frames the citizen page.
      await page.setContent(`<iframe id="f" src="${running.stack.api}/#/citizen" width="800" height="600"></iframe>`);
      await page.waitForTimeout(2000);
      const frame = page.frames().find((f) => f !== page.mainFrame());
      const framedNav = frame ? await frame.locator("#nav").count().catch(() => 0) : 0;
      assert.equal(framedNav, 0, `the framed page rendered (frame url ${frame?.url()})`);
      await context.close();
    });

    test("/docs is Swagger UI from this server only", { timeout: 60_000 }, async () => {
      const { context, page, errors, requests } = await watchedPage();
      await page.goto(`${running.stack.api}/docs`);
      await page.locator(".swagger-ui .opblock").first().waitFor({ timeout: 30_000 });
      assert.ok((await page.locator(".swagger-ui .opblock").count()) > 15);
      const elsewhere = requests.filter((u) => !u.startsWith(`${running.stack.api}/`) && !u.startsWith("data:"));
      assert.deepEqual(elsewhere, [], "no CDN, no external favicon");
      assert.deepEqual(await page.evaluate(() => window.__csp), []);
      assert.deepEqual(errors, []);
      await context.close();
    });

    test("a crafted #/dataset/ link fetches nothing but dataset routes", { timeout: 60_000 }, async () => {
      const { context, page, requests } = await watchedPage();
      const allowed = /^\/api\/(datasets\/([0-9]+|0x[0-9a-fA-F]{64})(\/(versions|attestations|consent-counts))?|purposes|deployment|status|organisations)(\?|$)/;
      for (const ref of ["..", "%2e%2e", "..%2F..%2Fstatus", "1%2F..%2F..%2Fstatus", "%2e%2e%2fstats%2fdomains"]) {
        requests.length = 0;
        await page.goto(`${running.stack.api}/#/dataset/${ref}`);
        await page.locator("#main[aria-busy]").waitFor({ state: "detached" });
        await page.waitForTimeout(300);
        const api = requests.map((u) => new URL(u)).filter((u) => u.pathname.startsWith("/api/"));
        const strays = api.filter((u) => !allowed.test(u.pathname + u.search)).map((u) => u.pathname);
        assert.deepEqual(strays, [], `#/dataset/${ref} fetched ${strays}`);
        assert.match(await page.locator("#main").innerText(), /not a dataset/, ref);
      }
      // A real reference still works, encoded as one path segment.
      requests.length = 0;
      await page.goto(`${running.stack.api}/#/dataset/${running.stack.datasets.trips_v2}`);
      await page.getByRole("heading", { name: "Versions and provenance" }).waitFor();
      assert.ok(requests.some((u) => new URL(u).pathname === `/api/datasets/${running.stack.datasets.trips_v2}/versions`));
      await context.close();
    });
  });
}

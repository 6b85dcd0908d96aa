// Researcher / public view: the catalogue (search, filters) and one dataset's page.
import { allPages, api, datasetPath, items, purposeLabel } from "./api";
import { ATTESTATION_KINDS, DOMAINS, domainLabel, codeOf } from "./codes";
import { clear, details, errorBox, field, fmtDate, fmtTime, h, hashCode, loading, select, userText } from "./dom";
import { loadNames, orgLabel } from "./names";
import { MIN_QUALITY, SORTS, descriptionLinks, qualitySection, qualityText } from "./quality";

/** Dataset rows from the API, read leniently (the page shows whatever metadata a row has). */
export function dsId(d: any): number {
  return Number(d.dataset_id ?? d.id);
}
export function dsTitle(d: any): string {
  const m = d.metadata ?? {};
  return d.title ?? m.title ?? m["dct:title"] ?? m["dcterms:title"] ?? `${domainLabel(d.domain_code ?? d.domain)} dataset #${dsId(d)}`;
}
function dsDescription(d: any): string {
  const m = d.metadata ?? {};
  return d.description ?? m.description ?? m["dct:description"] ?? "";
}
function dsStatus(d: any): string {
  const s = d.status;
  if (s === 2 || s === "withdrawn") return "withdrawn";
  if (d.successor && Number(d.successor) !== 0) return "superseded";
  if (typeof s === "string") return s;
  return "active";
}
function statusBadge(d: any): HTMLElement {
  const s = dsStatus(d);
  return h("span", { class: `badge badge-${s}` }, s);
}
function publisherOf(d: any): string {
  return d.publisher ?? d.publisher_address ?? "";
}
/** The publisher by name (organisation registry), linked to the catalogue of its datasets. */
function publisherLink(d: any): HTMLElement {
  const a = publisherOf(d);
  return orgLabel(a, { href: `#/catalogue?publisher=${encodeURIComponent(a)}` });
}

const PAGE_SIZE = 20;

export async function renderCatalogue(main: HTMLElement, params: URLSearchParams): Promise<void> {
  const q = h("input", { type: "search", name: "q", value: params.get("q") ?? "", autocomplete: "off" });
  const domain = select(
    "domain",
    [["", "All domains"], ...Object.entries(DOMAINS)],
    params.get("domain") ?? "",
  );
  const publisher = h("input", {
    type: "text",
    name: "publisher",
    value: params.get("publisher") ?? "",
    placeholder: "0x…",
    spellcheck: "false",
    autocomplete: "off",
  });
  const minQuality = select("min_quality", MIN_QUALITY, params.get("min_quality") ?? "");
  const sort = select("sort", SORTS, params.get("sort") ?? "newest");
  const results = h("div", { id: "results", "aria-live": "polite" });
  const form = h(
    "form",
    { class: "filters", role: "search", "aria-label": "Search the catalogue" },
    field("Search", q, "Words of the title, description or keywords (any case), part of the metadata address, or a content hash (0x…)"),
    field("Domain", domain),
    field("Publisher address", publisher, "Optional"),
    field("Minimum quality", minQuality, "The metadata quality score (reachability not checked)"),
    field("Sort by", sort),
    h("button", { type: "submit" }, "Search"),
  );
  form.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const p = new URLSearchParams();
    if (q.value.trim()) p.set("q", q.value.trim());
    if (domain.value) p.set("domain", domain.value);
    if (publisher.value.trim()) p.set("publisher", publisher.value.trim());
    if (minQuality.value) p.set("min_quality", minQuality.value);
    if (sort.value !== "newest") p.set("sort", sort.value);
    location.hash = `#/catalogue${p.size ? "?" + p : ""}`;
  });
  for (const s of [domain, minQuality, sort]) s.addEventListener("change", () => form.requestSubmit());
  const harvest = h(
    "p",
    { class: "muted small" },
    "For open-data portals (CKAN, data.europa.eu): the DCAT-AP catalogue at ",
    h("a", { href: "/catalog?format=ttl" }, "/catalog"),
    " (Turtle, JSON-LD or RDF/XML).",
  );
  clear(main, h("h1", {}, "Dataset catalogue"), form, results, harvest);
  await loadResults(results, params);
}

async function loadResults(results: HTMLElement, params: URLSearchParams): Promise<void> {
  const page = Math.max(1, Number(params.get("page") ?? 1) || 1);
  const query = new URLSearchParams();
  for (const k of ["q", "domain", "publisher", "min_quality", "sort"]) if (params.get(k)) query.set(k, params.get(k)!);
  query.set("page", String(page));
  query.set("page_size", String(PAGE_SIZE));
  clear(results, loading("datasets"));
  let body: any;
  try {
    body = await api(`/api/datasets?${query}`);
  } catch (e: any) {
    clear(results, errorBox(`Could not load the catalogue: ${e.message}`));
    return;
  }
  const rows = items(body);
  const total = Number(body?.total ?? rows.length);
  await loadNames([...rows.map(publisherOf), params.get("publisher")]);
  if (!rows.length) {
    clear(results, h("p", { class: "muted" }, "No dataset matches these filters."));
    return;
  }
  const list = h(
    "ul",
    { class: "cards" },
    rows.map((d) =>
      h(
        "li",
        { class: "card" },
        h("h2", {}, h("a", { href: `#/dataset/${dsId(d)}` }, userText(dsTitle(d)))),
        h(
          "p",
          { class: "meta" },
          statusBadge(d),
          " ",
          h("span", {}, domainLabel(d.domain_code ?? d.domain)),
          " · version ",
          String(d.version ?? 1),
          " · ",
          publisherLink(d),
          d.personal_data ? h("span", { class: "badge badge-personal" }, "personal data") : null,
          " · ",
          qualityText(d.quality),
        ),
        dsDescription(d) ? h("p", { class: "desc user-text", dir: "auto" }, dsDescription(d)) : null,
      ),
    ),
  );
  const pages = Math.max(1, Math.ceil(total / PAGE_SIZE));
  const nav = h("nav", { class: "pager", "aria-label": "Result pages" });
  const link = (p: number, text: string) => {
    const pp = new URLSearchParams(query);
    pp.delete("page_size");
    pp.set("page", String(p));
    return h("a", { href: `#/catalogue?${pp}` }, text);
  };
  if (page > 1) nav.append(link(page - 1, "← Previous"));
  nav.append(h("span", {}, ` Page ${page} of ${pages} `));
  if (page < pages) nav.append(link(page + 1, "Next →"));
  const by = params.get("publisher");
  clear(results, h("p", { class: "muted" }, `${total} dataset${total === 1 ? "" : "s"}`, by ? [" published by ", orgLabel(by)] : ""), list, nav);
}

/** What a dataset covers, as its publisher declared it in the registered metadata: its period and
 *  place (DCAT), who or what is counted, how, and who is missing (cl:sampling), and a personal
 *  dataset's sampled population (its privacy declaration): whom conclusions drawn from it describe. */
function coverageFacts(doc: any): [string, Node | string][] {
  const out: [string, Node | string][] = [];
  const text = (x: unknown): x is string => typeof x === "string" && x.trim() !== "";
  const period = doc?.["dct:temporal"];
  const [start, end] = [period?.["dcat:startDate"], period?.["dcat:endDate"]];
  if (text(start) || text(end)) out.push(["Period", `${text(start) ? start : "…"} to ${text(end) ? end : "…"}`]);
  const place = doc?.["dct:spatial"]?.["rdfs:label"] ?? doc?.["dct:spatial"]?.["@id"];
  if (text(place)) out.push(["Place", userText(place)]);
  const sampling = doc?.["cl:sampling"] ?? {};
  const said: [string, string][] = [
    ["cl:population", "Who or what is counted"],
    ["cl:method", "How it was collected"],
    ["cl:notCovered", "Who and what is missing"],
    ["rdfs:comment", "Notes"],
  ];
  for (const [key, label] of said) if (text(sampling[key])) out.push([label, userText(sampling[key])]);
  const sampled = doc?.["cl:privacy"]?.["cl:sampledPopulation"];
  if (text(sampled)) out.push(["Sampled population", userText(sampled)]);
  return out;
}

/** One purpose's consents as a share of the people in the file, in plain words (docs/PRIVACY.md "The
 *  consented share"): the API gives the share capped at 100 % and the noisy number of people. */
function shareSentence(label: string, n: number, share: number, capped: boolean, people: any): string {
  const who = `${n} ${n === 1 ? "person has" : "people have"} consented to ${label.charAt(0).toLowerCase()}${label.slice(1)}`;
  const est = Number(people.estimate);
  const plusMinus = Math.max(Number(people.high) - est, est - Number(people.low));
  const noise = `(the number of people is a privacy-protected estimate, ±${plusMinus})`;
  if (capped) {
    return `${who}: more than the ~${est} people this file is estimated to hold, so the share is shown as 100 % (consents can come from people who are not in the file) ${noise}.`;
  }
  const pct = share * 100;
  const about = pct > 0 && pct < 1 ? "less than 1 %" : `about ${Math.round(pct)} %`;
  return `${who}: ${about} of the ~${est} people in this file ${noise}.`;
}

export async function renderDataset(main: HTMLElement, id: string): Promise<void> {
  clear(main, loading(`dataset ${id}`));
  let d: any;
  try {
    d = await api(datasetPath(id));
  } catch (e: any) {
    clear(main, h("p", {}, h("a", { href: "#/catalogue" }, "← Catalogue")), errorBox(e.message));
    return;
  }
  const [versions, attestations, counts, quality] = await Promise.all([
    allPages(datasetPath(id, "/versions")).catch(() => null),
    // The detail carries the first 100 attestations; more are read from the paged route.
    Array.isArray(d.attestations) && (d.attestations_total ?? 0) <= d.attestations.length
      ? Promise.resolve(d.attestations)
      : allPages(datasetPath(id, "/attestations")).catch(() => null),
    api(datasetPath(id, "/consent-counts")).catch(() => null),
    qualitySection(id),
  ]);
  await loadNames([publisherOf(d), ...((attestations ?? []) as any[]).map((a) => a.auditor)]);
  const facts: [string, Node | string][] = [
    ["Status", statusBadge(d)],
    ["Dataset", `#${dsId(d)}`],
    ["Domain", domainLabel(d.domain_code ?? d.domain)],
    ["Version", String(d.version ?? 1)],
    ["Publisher", publisherLink(d)],
    ["Personal data", d.personal_data ? "yes: it is about individual people, and is used only as they consent" : "no"],
    ["Registered", fmtTime(d.registered_at)],
  ];
  facts.push(["DCAT-AP description", descriptionLinks(dsId(d), d.metadata_hash ?? null, d.metadata != null)]);
  // The newer version by its own dataset number and version (a version number is not a dataset number).
  if (d.successor && Number(d.successor)) {
    const next = (versions ?? []).find((v: any) => dsId(v) === Number(d.successor));
    facts.push(["Superseded by", h("a", { href: `#/dataset/${d.successor}` }, `dataset #${d.successor}`, next?.version ? ` (version ${next.version})` : "")]);
  }
  const technical = details("Technical details",
    h("dl", { class: "facts" },
      h("dt", {}, "Content hash (SHA-256)"), h("dd", {}, h("code", { class: "hash" }, d.content_hash ?? "—")),
      h("dt", {}, "Publisher's address"), h("dd", {}, h("code", { class: "hash" }, publisherOf(d))),
      h("dt", {}, "Registered in block"), h("dd", {}, String(d.registered_block ?? "?")),
      d.metadata_uri ? [h("dt", {}, "Metadata (DCAT)"), h("dd", {}, h("code", { class: "hash" }, d.metadata_uri))] : null));

  const coverage = coverageFacts(d.metadata);
  const countRows = items(counts, "counts");
  const countList = await Promise.all(
    countRows.map(async (c: any) => ({
      label: await purposeLabel(c.purpose),
      n: Number(c.active ?? c.count ?? 0),
      share: typeof c.share === "number" ? c.share : null,
      capped: c.share_capped === true,
    })),
  );
  const people = counts?.population ?? null;
  const shares = countList.filter((c) => c.share !== null && people);

  clear(
    main,
    h("p", {}, h("a", { href: "#/catalogue" }, "← Catalogue")),
    h("h1", {}, userText(dsTitle(d))),
    dsDescription(d) ? h("p", { class: "desc user-text", dir: "auto" }, dsDescription(d)) : null,
    h("dl", { class: "facts" }, facts.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)])),
    h("section", { "aria-labelledby": "cover-h" },
      h("h2", { id: "cover-h" }, "What it covers"),
      coverage.length
        ? h("dl", { class: "facts coverage" }, coverage.map(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]))
        : h("p", { class: "muted" }, d.metadata ? "The publisher has not said what period, place or people this dataset covers." : "This node does not hold the dataset's description, so its coverage cannot be shown.")),
    quality,
    technical,
    h("section", { "aria-labelledby": "prov-h" },
      h("h2", { id: "prov-h" }, "Versions and provenance"),
      versions === null
        ? errorBox("Could not load the versions.")
        : h("ol", { class: "timeline" }, versions.map((v: any) =>
            h("li", { class: dsId(v) === dsId(d) ? "current" : "" },
              h("a", { href: `#/dataset/${dsId(v)}`, "aria-current": dsId(v) === dsId(d) ? "page" : null }, `Version ${v.version ?? "?"}`),
              ` (dataset #${dsId(v)}) `, statusBadge(v), " ",
              h("span", { class: "muted" }, fmtDate(v.registered_at)), " ",
              hashCode(v.content_hash),
            ))),
    ),
    h("section", { "aria-labelledby": "att-h" },
      h("h2", { id: "att-h" }, "Attestations"),
      attestations === null
        ? errorBox("Could not load the attestations.")
        : attestations.length
          ? h("ul", { class: "plain" }, attestations.map((a: any) =>
              h("li", {},
                h("strong", {}, ATTESTATION_KINDS[a.kind_code ?? codeOf(a.kind, { quality: 1, coverage: 2, provenance: 3, privacy_review: 4 })] ?? String(a.kind)),
                " by ", orgLabel(a.auditor),
                a.active === false || a.revoked ? h("span", { class: "badge badge-withdrawn" }, "revoked") : null,
                " · fingerprint of the report ", hashCode(a.report_hash),
              )))
          : h("p", { class: "muted" }, "No auditor has attested this version yet."),
    ),
    h("section", { "aria-labelledby": "cons-h" },
      h("h2", { id: "cons-h" }, "Active consents per purpose"),
      counts === null
        ? errorBox("Could not load the consent counts.")
        : countList.length
          ? h("table", { class: "counts" },
              h("caption", { class: "visually-hidden" }, "Active consents per purpose"),
              h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Purpose"), h("th", { scope: "col" }, "Active consents"))),
              h("tbody", {}, countList.map((c) => h("tr", {}, h("th", { scope: "row" }, c.label), h("td", {}, String(c.n))))))
          : h("p", { class: "muted" }, "No active consent covers this dataset."),
      counts === null || !countList.length
        ? null
        : shares.length
          ? h("ul", { class: "plain shares" }, shares.map((c) => h("li", {}, shareSentence(c.label, c.n, c.share as number, c.capped, people))))
          : counts.no_share_reason
            ? h("p", { class: "muted no-share" }, String(counts.no_share_reason))
            : null,
    ),
  );
}

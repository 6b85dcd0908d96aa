// The metadata quality score (docs/CATALOG.md §9-10) on the page: the catalogue's filter choices and
// each card's score, and the dataset page's section with the dimensions and what to fix; plus the
// links to the dataset's machine-readable DCAT-AP description.
import { api, datasetPath } from "./api";
import { errorBox, h } from "./dom";

export interface QualitySummary {
  score: number;
  max_score: number;
  percent: number;
  rating: string;
}

/** The catalogue's "minimum quality" choices: values of the API's min_quality, weakest first. */
export const MIN_QUALITY: [string, string][] = [
  ["", "Any quality"],
  ["sufficient", "Sufficient or better"],
  ["good", "Good or better"],
  ["75", "75 % or more"],
  ["85", "85 % or more"],
  ["excellent", "Excellent"],
];
export const SORTS: [string, string][] = [
  ["newest", "Newest first"],
  ["quality", "Best quality first"],
];

const DIMENSIONS: Record<string, string> = {
  findability: "Findability",
  accessibility: "Accessibility",
  interoperability: "Interoperability",
  reusability: "Reusability",
  contextuality: "Contextuality",
};
// The rating's colour repeats its word (text next to every colour cue).
const RATING_BADGE: Record<string, string> = {
  excellent: "badge-active",
  good: "badge-active",
  sufficient: "badge-superseded",
  bad: "badge-withdrawn",
};

function ratingBadge(rating: string): HTMLElement {
  return h("span", { class: `badge ${RATING_BADGE[rating] ?? ""}` }, rating);
}

/** A card's stored score, as text: "quality 78 % good", or that it has none. */
export function qualityText(q: QualitySummary | null | undefined): HTMLElement {
  if (!q) return h("span", { class: "quality muted", title: "Its metadata document is not on this server, or not scored yet" }, "quality not scored");
  return h("span", { class: "quality", title: `${q.score} of ${q.max_score} points` }, `quality ${q.percent} %`, ratingBadge(q.rating));
}

/** The dataset page's "Metadata quality" section (GET /api/datasets/{ref}/quality). */
export async function qualitySection(ref: string): Promise<HTMLElement> {
  const section = (...children: (Node | null)[]) =>
    h("section", { "aria-labelledby": "quality-h", id: "quality" }, h("h2", { id: "quality-h" }, "Metadata quality"), ...children);
  let q: any;
  try {
    q = await api(`${datasetPath(ref)}/quality`);
  } catch (e: any) {
    return section(errorBox(`Could not load the quality score: ${e.message}`));
  }
  const fixes: { points: number; fix: string }[] = q.fixes ?? [];
  const unchecked: string[] = q.not_checked ?? [];
  // A dimension with an indicator not probed says so: its points are not a failure.
  const partial = new Set((q.indicators ?? []).filter((i: any) => i.applicable && !i.checked).map((i: any) => i.dimension));
  return section(
    h("p", { class: "quality-score", "data-rating": q.rating },
      h("strong", {}, `${q.percent} %`), " ", ratingBadge(q.rating), ` · ${q.score} of ${q.max_score} points`,
      h("span", { class: "muted" }, " (after data.europa.eu's metadata quality assessment)"),
    ),
    q.note ? h("p", { class: "muted" }, q.note) : null,
    h("table", { class: "counts" },
      h("caption", { class: "visually-hidden" }, "Quality points per dimension"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Dimension"), h("th", { scope: "col" }, "Points"))),
      h("tbody", {}, Object.entries(q.dimensions ?? {}).map(([name, d]: [string, any]) =>
        h("tr", {}, h("th", { scope: "row" }, DIMENSIONS[name] ?? name), h("td", {}, `${d.score} of ${d.max}`, partial.has(name) ? " (not all checked)" : "")))),
    ),
    h("h3", {}, "What to fix"),
    fixes.length
      ? h("ol", { class: "fixes" }, fixes.map((f) => h("li", {}, h("strong", {}, `+${f.points} points`), ": ", f.fix)))
      : h("p", { class: "muted" }, "Nothing the publisher can improve."),
    unchecked.length
      ? h("p", { class: "muted not-checked" }, `Not checked: ${unchecked.join(", ")} (this server does not probe them yet; they earn no points).`)
      : null,
  );
}

/** Links to the version's DCAT-AP description (what harvesters read) and its registered document. */
export function descriptionLinks(id: number, metadataHash: string | null, documentHere: boolean): HTMLElement {
  const formats: [string, string][] = [["ttl", "Turtle"], ["jsonld", "JSON-LD"], ["rdf", "RDF/XML"]];
  const links: (Node | string)[] = [];
  formats.forEach(([fmt, label], i) => {
    if (i) links.push(" · ");
    links.push(h("a", { href: `/datasets/${id}?format=${fmt}` }, label));
  });
  if (documentHere && metadataHash)
    links.push(" · ", h("a", { href: `/metadata/${metadataHash.replace(/^0x/, "")}` }, "registered document"));
  return h("span", { class: "dcat-links" }, ...links);
}

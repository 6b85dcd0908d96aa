// Private questions in the data room (docs/PRIVACY.md): under a live grant on a dataset whose
// publisher declared columns for them, the researcher asks for a count, total, average, quantiles or
// histogram, optionally split by categories and filtered; the data room answers with differential
// privacy (noise added, so no one person can be told apart), records it on the ledger and spends its
// epsilon from the grant's privacy budget. The page shows the answer with its 95 % range, what it
// spent and what is left, and who the rows describe. Only declared columns are offered.
import { ApiError, api } from "./api";
import { messageArea } from "./citizen";
import { details, field, h, hashCode, nextId, select, userText } from "./dom";
import { roomApi, roomErrorMessage } from "./siwe";

type ColumnType = "categorical" | "integer" | "numeric";
interface Column {
  name: string;
  type: ColumnType;
  categories: string[];
  bounded: boolean;
}
/** What the publisher declared for private questions (the metadata's `cl:privacy`). */
export interface Declaration {
  columns: Column[];
  population: string | null;
  /** The publisher keeps a population profile (cl:profileEpsilon): answers may carry a representativeness report. */
  profile: boolean;
}

/** The declaration of a dataset's registered metadata, or null when it declares no usable column. */
export function declaredColumns(metadata: any): Declaration | null {
  const p = metadata?.["cl:privacy"];
  const raw: any[] = Array.isArray(p?.["cl:columns"]) ? p["cl:columns"] : [];
  const columns: Column[] = raw
    .filter((c) => typeof c?.["cl:name"] === "string" && ["categorical", "integer", "numeric"].includes(c["cl:type"]))
    .map((c) => ({
      name: c["cl:name"],
      type: c["cl:type"],
      categories: Array.isArray(c["cl:categories"]) ? c["cl:categories"].map(String) : [],
      bounded: c["cl:lower"] !== undefined && c["cl:upper"] !== undefined,
    }));
  if (!columns.length) return null;
  const population = typeof p["cl:sampledPopulation"] === "string" ? p["cl:sampledPopulation"] : null;
  return { columns, population, profile: p["cl:profileEpsilon"] !== undefined };
}

// What each statistic is, in words, and which declared columns it can measure (the engine's rules:
// sums, averages and quantiles need declared bounds; a histogram counts categories or bounded ranges).
const STATISTICS: [string, string][] = [
  ["count", "How many rows (count)"],
  ["mean", "Average (mean)"],
  ["sum", "Total (sum)"],
  ["quantiles", "Median and quartiles (quantiles)"],
  ["histogram", "Rows per category or range (histogram)"],
];
const measurable = (stat: string, c: Column): boolean =>
  stat === "histogram" ? c.type === "categorical" || c.bounded : stat !== "count" && c.type !== "categorical" && c.bounded;

const CONDITIONS: Record<"categorical" | "number", [string, string][]> = {
  categorical: [["eq", "is"], ["ne", "is not"], ["in", "is one of"], ["not_in", "is none of"]],
  number: [["eq", "equals"], ["ne", "does not equal"], ["lt", "is below"], ["le", "is at most"], ["gt", "is above"], ["ge", "is at least"], ["between", "is between (both included)"]],
};

interface Budget {
  budget: string;
  remaining: string;
  spent: string;
  spent_micro: number;
}

/** Plain words for the epsilon spent and the budget left. */
function budgetWords(b: Budget | null): string {
  if (!b) return "Your privacy budget could not be read.";
  if (b.budget === "0") return "The publisher has set no privacy budget on this access yet: it admits no question.";
  return `Privacy budget: ${b.remaining} of ${b.budget} left (${b.spent} spent).`;
}

/** The data room's refusals of a question, in plain words; each says that nothing was spent. */
function refusalWords(e: unknown, eps: string, budget: Budget | null): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "budget_exceeded":
        return `This question would spend ${eps} of your privacy budget, but ${budget ? `only ${budget.remaining}` : "less"} is left. `
          + "It was refused before anything was computed: nothing was spent. Ask with a smaller epsilon, or ask the publisher to raise the budget.";
      case "access_not_live":
        return "Your access has ended (it expired, or the publisher ended it), so you cannot ask questions under it any more. Nothing was spent.";
      case "forbidden":
        return "This access was granted to another account than the one signed in. Nothing was spent.";
      case "query_replayed":
        return "This exact question was already answered under your access. Ask again: the page sends each question only once. Nothing was spent.";
      case "query_refused": {
        const why = e.message.replace(/;? ?nothing was (computed or )?spent\.?$/, "");
        return `The data room cannot answer this question: ${why}. Nothing was spent.`;
      }
    }
    if (e.status === 503 && /not mined in time|being logged/.test(e.message)) {
      return "The answer is still being recorded on the ledger. It is kept for you: once recorded, it appears among your answers below (reload the page in a moment). Nothing is spent twice.";
    }
    if (e.status === 503) return "The data room could not record the answer on the ledger, so it was not given and nothing was spent. Try again in a moment.";
  }
  return `${roomErrorMessage(e)} Nothing was spent.`;
}

const fmt = (x: number): string => x.toLocaleString(undefined, { maximumFractionDigits: Number.isInteger(x) ? 0 : 2 });
const range = (e: any): string => `${fmt(e.low)} to ${fmt(e.high)}`;
const pct = (share: number): string => `${fmt(share * 100)} %`;

const isEpsilon = (x: string): boolean => /^\d*\.?\d+$/.test(x) && Number(x) > 0 && Number(x) <= 10;

/** What a question spends: its epsilon plus its comparison's, in micro-epsilon steps as the chain counts. */
function cost(eps: string, rep: string): string | null {
  if (!isEpsilon(eps) || (rep && !isEpsilon(rep))) return null;
  const micro = Math.round(Number(eps) * 1e6) + (rep ? Math.round(Number(rep) * 1e6) : 0);
  return String(micro / 1e6);
}

/** A fresh nonce: every question hashes uniquely, so a replayed request is recognised. */
function nonce(): string {
  const b = crypto.getRandomValues(new Uint8Array(12));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** The form and its answers, for one live grant (its card holds it). */
export function privateQueryForm(accessId: number, decl: Declaration): HTMLElement {
  const titleId = nextId("pq-title");
  const budgetLine = h("p", { class: "budget", id: `budget-${accessId}`, "aria-live": "polite" }, "Reading your privacy budget…");
  let budget: Budget | null = null;
  const showBudget = (b: Budget | null) => {
    // The index may lag behind an answer just given: never show more left than the chain said.
    if (b && budget && b.spent_micro < budget.spent_micro) return;
    budget = b ?? budget;
    budgetLine.textContent = budgetWords(budget);
  };
  const readBudget = () => api(`/api/access/${accessId}/budget`).then(showBudget, () => showBudget(null));
  void readBudget();

  const statistic = select("statistic", STATISTICS, "count");
  const column = h("select", { name: "column" });
  const columnField = field("Of which column", column, "Only the columns the publisher declared for private questions");
  const levels = h("input", { type: "text", name: "quantiles", value: "0.25, 0.5, 0.75", inputmode: "decimal" });
  const levelsField = field("Which quantiles", levels, "Levels between 0 and 1, separated by commas: 0.5 is the median");
  const categorical = decl.columns.filter((c) => c.type === "categorical");
  const splits = categorical.map((c) => h("input", { type: "checkbox", name: "group_by", value: c.name, id: nextId("split") }));
  const splitBox = categorical.length
    ? h("fieldset", { class: "group-by" }, h("legend", {}, "Split the answer by (optional, at most 3)"),
      ...categorical.map((c, i) => h("div", { class: "radio" }, splits[i], h("label", { for: splits[i].id }, c.name))))
    : null;
  const conditions = h("div", { class: "conditions" });
  const addCondition = h("button", { type: "button" }, "Add a condition");
  const epsilon = h("input", { type: "text", name: "epsilon", value: "0.5", inputmode: "decimal", required: true, autocomplete: "off" });
  const compare = h("input", { type: "text", name: "representativeness", value: "", inputmode: "decimal", autocomplete: "off" });
  const compareField = decl.profile && categorical.length
    ? field("Epsilon for comparing the consenting people with everyone (optional)", compare,
      "Also spent from your budget: the answer then says, per category column, how the people who consent differ from all rows. Leave empty for no comparison.")
    : null;
  const sentence = h("p", { class: "sentence pq-sentence" });
  const submit = h("button", { type: "submit", class: "primary" }, "Ask privately");
  const form = h("form", { class: "private-query", "aria-labelledby": titleId, novalidate: true },
    h("h4", { id: titleId }, "Ask a private question"),
    h("p", { class: "pq-explain" },
      "Instead of rows, ask for a number computed over the rows of the people whose consent covers your use. "
      + "The data room adds random noise (differential privacy), so that no one person can be told apart; it shows how far off the answer may be. "
      + "Each answer spends some of the privacy budget the publisher gave this access: the budget and every answer are recorded on the ledger."),
    budgetLine,
    field("What to compute", statistic),
    columnField,
    levelsField,
    splitBox,
    h("fieldset", { class: "pq-filters" }, h("legend", {}, "Only rows where (optional)"), conditions, addCondition),
    field("Epsilon: how much privacy this answer spends", epsilon,
      "A number above 0, at most 10. Smaller spends less of your budget but adds more noise (a wider range)."),
    compareField,
    h("div", { class: "summary", "aria-live": "polite" }, sentence));
  const message = messageArea(form);
  const answers = h("div", { class: "private-answers" });
  form.append(message.el, submit);

  const columnOf = (name: string) => decl.columns.find((c) => c.name === name);
  const fillColumns = () => {
    const stat = statistic.value;
    const usable = decl.columns.filter((c) => measurable(stat, c));
    const before = column.value;
    column.replaceChildren(...usable.map((c) => h("option", { value: c.name, selected: c.name === before }, c.name)));
    columnField.hidden = stat === "count";
    levelsField.hidden = stat !== "quantiles";
  };

  const conditionRow = (): HTMLElement => {
    const col = select("filter_column", decl.columns.map((c) => [c.name, c.name]));
    const op = h("select", { name: "filter_op" });
    const value = h("input", { type: "text", name: "filter_value", autocomplete: "off" });
    const remove = h("button", { type: "button", class: "link" }, "Remove this condition");
    const hint = h("small", { class: "hint" });
    const fill = () => {
      const c = columnOf(col.value)!;
      const kind = c.type === "categorical" ? "categorical" : "number";
      if (op.dataset.kind !== kind) {
        op.replaceChildren(...CONDITIONS[kind].map(([v, t]) => h("option", { value: v }, t)));
        op.dataset.kind = kind;
      }
      hint.textContent = c.type === "categorical"
        ? `One of: ${c.categories.join(", ")}. Several values: separate them with commas.`
        : "A number; for “is between”, two numbers separated by a comma.";
    };
    col.addEventListener("change", fill);
    fill();
    const row = h("div", { class: "condition" },
      field("Column", col), field("Condition", op), field("Value", value), hint, remove);
    hint.id = nextId("hint");
    value.setAttribute("aria-describedby", hint.id);
    remove.addEventListener("click", () => {
      row.remove();
      addCondition.focus();
      describe();
    });
    return row;
  };
  addCondition.addEventListener("click", () => {
    const row = conditionRow();
    conditions.append(row);
    row.querySelector("select")?.focus();
    describe();
  });

  /** The query document, or an error on the control at fault. */
  const build = (): { query: Record<string, unknown> } | { error: string; control: HTMLElement } => {
    const stat = statistic.value;
    const query: Record<string, unknown> = { statistic: stat, epsilon: epsilon.value.trim(), access_id: accessId, nonce: nonce() };
    if (stat !== "count") {
      if (!column.value) return { error: "No declared column can be measured this way: choose another thing to compute.", control: statistic };
      query.column = column.value;
    }
    if (stat === "quantiles") {
      const list = levels.value.split(",").map((x) => x.trim()).filter(Boolean);
      if (!list.length || list.some((x) => !(Number(x) > 0 && Number(x) < 1))) return { error: "Each quantile must be a number between 0 and 1, such as 0.5 for the median.", control: levels };
      query.quantiles = list;
    }
    const groupBy = splits.filter((s) => s.checked).map((s) => s.value);
    if (groupBy.length > 3) return { error: "Split the answer by at most 3 columns.", control: splits.find((s) => s.checked)! };
    if (groupBy.length) query.group_by = groupBy;
    const filters = [];
    for (const row of conditions.querySelectorAll<HTMLElement>(".condition")) {
      const [col, op] = row.querySelectorAll("select");
      const input = row.querySelector("input")!;
      const parts = input.value.split(",").map((x) => x.trim()).filter(Boolean);
      const many = ["in", "not_in"].includes(op.value);
      if (!parts.length || (op.value === "between" && parts.length !== 2) || (!many && op.value !== "between" && parts.length !== 1)) {
        return { error: op.value === "between" ? "Give two numbers separated by a comma: the lowest and the highest." : "Give the value this condition compares with.", control: input };
      }
      filters.push({ column: col.value, op: op.value, value: many || op.value === "between" ? parts : parts[0] });
    }
    if (filters.length) query.filters = filters;
    if (!isEpsilon(String(query.epsilon))) return { error: "Epsilon must be a number above 0 and at most 10, such as 0.5.", control: epsilon };
    const rep = compare.value.trim();
    if (rep) {
      if (!isEpsilon(rep)) return { error: "The comparison's epsilon must be a number above 0 and at most 10, such as 0.5, or empty.", control: compare };
      query.representativeness = rep;
    }
    return { query };
  };

  const describe = () => {
    const stat = statistic.value;
    const what = STATISTICS.find(([v]) => v === stat)![1].replace(/ \(.*\)$/, "").toLowerCase();
    const groupBy = splits.filter((s) => s.checked).map((s) => s.value);
    const n = conditions.childElementCount;
    sentence.textContent = `You ask for ${stat === "count" ? "how many rows there are" : `the ${what} of ${column.value || "a column"}`}`
      + (groupBy.length ? `, split by ${groupBy.join(" and ")}` : "")
      + (n ? `, over the rows that meet ${n === 1 ? "your condition" : `your ${n} conditions`}` : "")
      + `, counting only people whose consent covers your use`
      + (compare.value.trim() ? ", compared with everyone in the dataset" : "")
      + `. It spends ${cost(epsilon.value.trim(), compare.value.trim()) ?? "?"} of your privacy budget. `
      + "Your wallet is not asked and it costs you nothing; the data room records on the ledger that you asked and what it spent (not the answer).";
  };
  statistic.addEventListener("change", fillColumns);
  form.addEventListener("input", () => describe());
  form.addEventListener("change", () => describe());
  fillColumns();
  describe();

  // The answers given before, newest first: the data room keeps each one, also the answer of a request
  // whose connection dropped or whose page was closed (docs/DATAROOM.md), so a reload shows them.
  const readEarlier = () => roomApi(`/api/access/${accessId}/answers?page_size=20`).then((page: any) => {
    const shown = new Set(Array.from(answers.querySelectorAll<HTMLElement>(".private-answer"), (el) => el.id));
    for (const a of page.items) if (!shown.has(`answer-${a.query_id}`)) answers.append(answerCard(a, decl, true));
  }, () => undefined);
  void readEarlier();

  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    message.clear();
    const built = build();
    if ("error" in built) {
      message.error(built.error, built.control);
      return;
    }
    submit.disabled = true;
    message.show(h("p", { class: "muted" }, "Computing the answer over the consenting people's rows and recording it on the ledger…"));
    try {
      const answer = await roomApi(`/api/access/${accessId}/queries`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(built.query),
      });
      message.clear();
      showBudget({ ...answer.budget });
      const shown = answerCard(answer, decl);
      answers.prepend(shown);
      shown.focus();
    } catch (e) {
      await readBudget();
      void readEarlier();
      message.error(refusalWords(e, cost(epsilon.value.trim(), compare.value.trim()) ?? "", budget), epsilon);
    } finally {
      submit.disabled = false;
    }
  });
  return h("div", { class: "private-query-box" }, form, answers);
}

/** One answer: the value(s) with their 95 % ranges, what it spent, and whom the rows describe. */
function answerCard(a: any, decl: Declaration, earlier = false): HTMLElement {
  const titleId = nextId("answer-title");
  const stat = a.statistic as string;
  const measure = stat === "count" || stat === "histogram" ? "count" : stat;
  const label = stat === "count" || stat === "histogram" ? "rows" : `${STATISTICS.find(([v]) => v === stat)![1].replace(/ \(.*\)$/, "").toLowerCase()} of ${a.column}`;
  const body: (Node | string)[] = [h("h5", { id: titleId }, `Answer #${a.query_id}: ${label}`)];
  const single = a.groups.length === 1 && !Object.keys(a.groups[0].key).length;
  if (single) {
    body.push(groupSentence(a.groups[0], measure, label));
  } else {
    body.push(groupTable(a, measure, label));
    if (a.suppressed_groups) {
      body.push(h("p", { class: "muted" },
        `${a.suppressed_groups} of ${a.groups.length} groups are hidden: their noisy count was below ${a.threshold}, too few people to show a number safely.`));
    }
  }
  if (a.rows_used && !single) body.push(h("p", {}, `Rows used: about ${fmt(a.rows_used.value)} (95 % range ${range(a.rows_used)}).`));
  body.push(
    // epsilon_micro is all it spent: its epsilon and its comparison's.
    h("p", { class: "spent" }, `This answer spent ${a.epsilon_micro / 1e6} of your privacy budget: ${a.budget.remaining} of ${a.budget.budget} ${earlier ? "were left after it" : "left"}.`),
    representativeness(a, decl),
    details("Technical details",
      h("p", {}, `Recorded on the ledger as private answer #${a.query_id} (block ${a.snapshot_block} consent snapshot, ${a.subject_count} consenting people).`),
      h("p", {}, "Fingerprint of the question: ", hashCode(a.query_hash)),
      h("p", {}, "Transaction: ", hashCode(a.tx_hash)),
      h("p", {}, "Root of the consent set: ", hashCode(a.consent_root)),
      h("p", {}, "Noise: ", a.mechanisms.map((m: any) => `${m.aggregate} (${m.distribution}, scale ${fmt(m.scale)})`).join("; "), ".")),
  );
  return h("section", { class: "private-answer", id: `answer-${a.query_id}`, tabindex: "-1", "aria-labelledby": titleId }, ...body);
}

function groupSentence(g: any, measure: string, label: string): HTMLElement {
  if (g.suppressed) return h("p", { class: "answer-value" }, "Hidden: too few people meet the question to show a number safely (your epsilon was spent all the same).");
  if (measure === "quantiles") {
    return h("ul", { class: "answer-value" }, g.quantiles.map((q: any) =>
      h("li", {}, `${q.level === "0.5" ? "Median" : `Quantile ${q.level}`}: about ${fmt(q.value)} `
        + `(95 % sure it lies between the true ${q.level_low} and ${q.level_high} quantiles).`)));
  }
  const e = g[measure];
  return h("p", { class: "answer-value" },
    h("strong", {}, `${label[0].toUpperCase()}${label.slice(1)}: about ${fmt(e.value)}.`),
    ` We are 95 % sure the true value is between ${fmt(e.low)} and ${fmt(e.high)}.`);
}

function groupTable(a: any, measure: string, label: string): HTMLElement {
  const keys = Object.keys(a.groups[0]?.key ?? {});
  const cell = (g: any): string => {
    if (g.suppressed) return "hidden (too few people)";
    if (measure === "quantiles") return g.quantiles.map((q: any) => `${q.level}: ${fmt(q.value)}`).join(", ");
    const e = g[measure];
    return `about ${fmt(e.value)} (95 % range ${range(e)})`;
  };
  return h("div", { class: "table-scroll" }, h("table", { class: "answer-table" },
    h("caption", {}, `${label[0].toUpperCase()}${label.slice(1)} per group, with 95 % ranges`),
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, k)), measure !== "count" ? h("th", { scope: "col" }, "Rows") : null, h("th", { scope: "col" }, label))),
    h("tbody", {}, a.groups.map((g: any) => h("tr", { class: g.suppressed ? "suppressed" : null },
      keys.map((k) => h("td", {}, g.key[k])),
      measure !== "count" ? h("td", {}, g.suppressed ? "—" : `about ${fmt(g.count.value)}`) : null,
      h("td", {}, cell(g)))))));
}

/** Whom the answer describes: the publisher's sampled population and the consenting people, and how
 *  they differ from all rows when the data room gives a representativeness report. */
function representativeness(a: any, decl: Declaration): HTMLElement {
  const box = h("div", { class: "representativeness" },
    h("h6", {}, "Whom this answer describes"));
  const population = a.representativeness?.sampled_population || decl.population;
  if (population) box.append(h("p", {}, "The publisher says the dataset covers: ", userText(population)));
  box.append(h("p", {},
    `Only the rows of the ${a.subject_count} ${a.subject_count === 1 ? "person" : "people"} whose consent covers your use count. `
    + "People who consent can differ from everyone in the dataset (for example by district or age): the answer describes them, not the whole population."));
  const compared = comparison(a.representativeness);
  if (compared) {
    box.append(compared);
  } else {
    box.append(h("p", { class: "muted" }, decl.profile
      ? "No comparison with everyone in the dataset was asked for this answer (give an epsilon for it to compare)."
      : "The publisher keeps no profile of all its rows, so the consenting people cannot be compared with everyone in the dataset."));
  }
  return box;
}

/** A representativeness report (docs/PRIVACY.md section 7) in words: per category column, how far the
 *  consenting people's rows are from all rows, and the shares; null when there is none. */
export function comparison(report: any): HTMLElement | null {
  if (!report?.columns?.length) return null;
  const list = h("ul", { class: "comparison" }, report.columns.map((c: any) =>
    h("li", {}, `By ${c.column}: the consenting rows differ from all rows by ${pct(c.total_variation)} `
      + `(the share of rows that would have to change category to match; 95 % range ${pct(c.total_variation_low)} to ${pct(c.total_variation_high)}). `
      + (c.categories ?? []).map((x: any) => `${x.category}: ${pct(x.consented_share)} of the consenting, ${pct(x.population_share)} of all`).join("; ")
      + ".")));
  if (report.not_compared?.length) {
    list.append(h("li", {}, `Not compared: ${report.not_compared.join(", ")} (coarsened in this release to protect the people in it).`));
  }
  return list;
}

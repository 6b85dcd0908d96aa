// A tiny element builder: h("p", {class: "x"}, "text", child). No framework needed for this page.
type Child = Node | string | number | null | undefined | false | Child[];
type Attrs = Record<string, string | number | boolean | null | undefined | EventListener>;

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Attrs = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  append(el, children);
  return el;
}

export function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

export function clear(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let uid = 0;
/** A unique id for label/for and aria-describedby pairs. */
export function nextId(prefix: string): string {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** A labelled form field: the label always names the control (accessibility). */
export function field(label: string, control: HTMLElement, hint?: string): HTMLElement {
  const id = control.id || nextId("f");
  control.id = id;
  const parts: Child[] = [h("label", { for: id }, label), control];
  if (hint) {
    const hid = nextId("hint");
    control.setAttribute("aria-describedby", hid);
    parts.push(h("small", { id: hid, class: "hint" }, hint));
  }
  return h("div", { class: "field" }, ...parts);
}

export function select(name: string, options: [string, string][], value?: string): HTMLSelectElement {
  const s = h("select", { name });
  for (const [v, text] of options) s.append(h("option", { value: v, selected: v === value }, text));
  return s;
}

export function shortHex(x: string, keep = 6): string {
  return x && x.length > 2 * keep + 4 ? `${x.slice(0, keep + 2)}…${x.slice(-keep + 2)}` : x;
}

/** A long hash or address, shortened, with the whole value on hover. */
export function hashCode(x: string | null | undefined, keep = 8): HTMLElement {
  return h("code", { class: "hash", title: x }, shortHex(x ?? "", keep));
}

/** A unix time as a Date, or null when it is none (0, empty) or past any calendar (uint64 "forever"). */
function dateOf(unixSeconds: number | string | null | undefined): Date | null {
  if (unixSeconds === null || unixSeconds === undefined || unixSeconds === "") return null;
  const n = Number(unixSeconds);
  if (!Number.isFinite(n) || n <= 0 || n > 253_402_300_799) return null;
  return new Date(n * 1000);
}

/** Date and time in the reader's locale ("3 Dec 2025, 14:02"). */
export function fmtTime(unixSeconds: number | string | null | undefined): string {
  const d = dateOf(unixSeconds);
  return d ? d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "—";
}

/** A date in words in the reader's locale ("1 December 2027"); "no end date" past any calendar. */
export function fmtDate(unixSeconds: number | string | null | undefined): string {
  const d = dateOf(unixSeconds);
  return d ? d.toLocaleDateString(undefined, { day: "numeric", month: "long", year: "numeric" }) : "no end date";
}

/** Publisher-written text (titles, descriptions, answers): its own direction, isolated from the
 *  page's (a right-to-left override cannot reorder what follows), long words wrapped. Text only:
 *  h() never parses HTML. */
export function userText(text: string, tag: "bdi" | "p" | "span" = "bdi"): HTMLElement {
  return h(tag, { dir: "auto", class: "user-text" }, text);
}

/** Technical details (hashes, blocks, chain ids) kept behind a disclosure. */
export function details(summary: string, ...children: Child[]): HTMLElement {
  return h("details", { class: "tech" }, h("summary", {}, summary), h("div", { class: "tech-body" }, ...children));
}

/** A disclosure: `toggle` shows or hides `panel` (its `aria-expanded` follows); opening moves focus to
 *  `focusWhenOpen`, closing (the toggle again, or `closeButton`) back to the toggle. */
export function disclosure(toggle: HTMLElement, panel: HTMLElement, focusWhenOpen: HTMLElement, closeButton: HTMLElement): void {
  const show = (open: boolean) => {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    (open ? focusWhenOpen : toggle).focus();
  };
  toggle.addEventListener("click", () => show(Boolean(panel.hidden)));
  closeButton.addEventListener("click", () => show(false));
}

export function errorBox(message: string): HTMLElement {
  return h("p", { class: "error", role: "alert" }, message);
}

export function loading(what: string): HTMLElement {
  return h("p", { class: "muted", "aria-busy": "true" }, `Loading ${what}…`);
}

// Verify a file: its SHA-256 is computed in the browser (the file never leaves the computer),
// then looked up in the index (/api/verify/{hash}).
import { api } from "./api";
import { clear, errorBox, h } from "./dom";
import { receiptPanel } from "./receipt";

const MAX_BROWSER_BYTES = 1024 * 1024 * 1024;

export async function sha256Hex(buf: ArrayBuffer): Promise<`0x${string}`> {
  if (!crypto?.subtle) throw new Error("This browser cannot hash files here (the page must be served over https or from localhost).");
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", buf));
  return `0x${Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("")}`;
}

export function renderVerify(main: HTMLElement): void {
  const input = h("input", { type: "file", id: "verify-file", class: "visually-hidden-file" });
  const result = h("div", { id: "verify-result", "aria-live": "polite" });
  const zone = h(
    "div",
    { class: "dropzone", id: "dropzone" },
    h("p", {}, h("strong", {}, "Drop a file here"), " to check it against the ledger"),
    h("p", {}, "or ", h("label", { for: "verify-file", class: "button" }, "Choose a file…")),
    input,
    h("p", { class: "muted" }, "The file is hashed (SHA-256) in your browser; only the hash is sent."),
  );
  const check = async (file: File) => {
    if (file.size > MAX_BROWSER_BYTES) {
      // WebCrypto hashes a whole buffer at once: past this size the browser may run out of memory.
      clear(result, errorBox(`${file.name} is too large to hash in the browser (${(file.size / 2 ** 30).toFixed(1)} GiB). ` +
        "Use the command line instead: cityledger verify <file>."));
      return;
    }
    clear(result, h("p", { class: "muted", "aria-busy": "true" }, `Hashing ${file.name}…`));
    try {
      const hash = await sha256Hex(await file.arrayBuffer());
      const r = await api(`/api/verify/${hash}`);
      clear(result, verdict(file.name, hash, r));
    } catch (e: any) {
      clear(result, errorBox(`Could not verify ${file.name}: ${e.message}`));
    }
  };
  input.addEventListener("change", () => input.files?.[0] && check(input.files[0]));
  zone.addEventListener("dragover", (ev) => {
    ev.preventDefault();
    zone.classList.add("over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("over"));
  zone.addEventListener("drop", (ev) => {
    ev.preventDefault();
    zone.classList.remove("over");
    const f = ev.dataTransfer?.files?.[0];
    if (f) check(f);
  });
  clear(main, h("h1", {}, "Verify a file"), zone, result, receiptPanel());
}

function verdict(name: string, hash: string, r: any): HTMLElement {
  const status: string = r?.state ?? r?.status ?? "not_registered";
  const id = r?.dataset_id;
  const link = id ? h("a", { href: `#/dataset/${id}` }, `Dataset #${id}`) : null;
  const by = r?.superseded_by ?? r?.successor;
  const text: Record<string, [string, string]> = {
    registered: ["ok", "Registered: this exact file is on the ledger and is the current version."],
    superseded: ["warn", "Registered, but a newer version has replaced it."],
    withdrawn: ["bad", "Registered, but its publisher has withdrawn it."],
    not_registered: ["bad", "Not registered: no dataset on the ledger has this content. The file may have been altered."],
  };
  const [tone, message] = text[status] ?? ["warn", `Status: ${status}`];
  return h(
    "div",
    { class: `verdict verdict-${tone}`, "data-status": status },
    h("p", { class: "verdict-title" }, h("strong", {}, message)),
    h("p", {}, "File: ", h("bdi", { dir: "auto" }, name)),
    h("p", {}, "SHA-256: ", h("code", { class: "hash" }, hash)),
    link ? h("p", {}, "Dataset: ", link) : null,
    by ? h("p", {}, "Newer version: ", h("a", { href: `#/dataset/${by}` }, `dataset #${by}`)) : null,
  );
}

/** Small DOM helpers shared by the verify pages: field errors, file/drop input, downloads, verdicts. */

export const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`missing #${id}`);
  return el as T;
};

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string | undefined> = {},
  ...children: (Node | string | null | undefined | false)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined) el.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined && c !== false) el.append(c);
  return el;
}

/** Shows (or clears, with "") the message next to a field and marks the field invalid. */
export function fieldError(fieldId: string, message: string): void {
  const field = document.getElementById(fieldId);
  const err = document.getElementById(`${fieldId}-error`);
  if (err) err.textContent = message;
  if (field) {
    if (message) field.setAttribute("aria-invalid", "true");
    else field.removeAttribute("aria-invalid");
  }
}

export function clearErrors(...ids: string[]): void {
  for (const id of ids) fieldError(id, "");
}

/**
 * A text area that also takes a dropped file or a chosen file. Text files fill the area; the bytes of
 * the last chosen file are kept so binary payloads can be checked exactly.
 */
/** Accepts a dropped file on `target`, highlighting `highlight` while a file is dragged over it. */
export function onFileDrop(target: HTMLElement, highlight: HTMLElement, onFile: (f: File) => void): void {
  target.addEventListener("dragover", (e) => {
    if (!e.dataTransfer?.types.includes("Files")) return;
    e.preventDefault();
    highlight.classList.add("drop-active");
  });
  target.addEventListener("dragleave", () => highlight.classList.remove("drop-active"));
  target.addEventListener("drop", (e) => {
    highlight.classList.remove("drop-active");
    const f = e.dataTransfer?.files?.[0];
    if (!f) return;
    e.preventDefault();
    onFile(f);
  });
}

export class TextOrFile {
  bytes: Uint8Array | null = null;
  fileName: string | null = null;
  constructor(
    readonly area: HTMLTextAreaElement,
    readonly picker: HTMLInputElement | null,
    readonly status: HTMLElement | null,
    readonly opts: { maxTextChars?: number; onFile?: () => void } = {},
  ) {
    picker?.addEventListener("change", () => {
      const f = picker.files?.[0];
      if (f) void this.take(f);
    });
    onFileDrop(area, area, (f) => void this.take(f));
    area.addEventListener("input", () => {
      this.bytes = null;
      this.fileName = null;
      this.setStatus("");
    });
  }

  setStatus(text: string): void {
    if (this.status) this.status.textContent = text;
  }

  async take(f: File): Promise<void> {
    const max = this.opts.maxTextChars ?? 5_000_000;
    if (f.size > max) {
      this.setStatus(
        `${f.name} is too large (${f.size.toLocaleString("en")} bytes; at most ${max.toLocaleString("en")}).`,
      );
      return;
    }
    const bytes = new Uint8Array(await f.arrayBuffer());
    let text: string | null = null;
    try {
      text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      text = null;
    }
    this.area.value = text ?? "";
    this.bytes = bytes;
    this.fileName = f.name;
    this.setStatus(
      text === null
        ? `Using the file ${f.name} (${bytes.length.toLocaleString("en")} bytes, binary).`
        : `Loaded ${f.name} (${bytes.length.toLocaleString("en")} bytes).`,
    );
    this.opts.onFile?.();
  }

  /** The exact bytes: the file's when one was loaded and not edited since, else the text's UTF-8. */
  value(): { text: string; bytes: Uint8Array; fromFile: boolean } {
    if (this.bytes) return { text: this.area.value, bytes: this.bytes, fromFile: true };
    return { text: this.area.value, bytes: new TextEncoder().encode(this.area.value), fromFile: false };
  }

  reset(): void {
    this.bytes = null;
    this.fileName = null;
    this.area.value = "";
    this.setStatus("");
    if (this.picker) this.picker.value = "";
  }
}

/** Offers a JSON document as a download (a blob: URL, no network). */
export function downloadJson(name: string, value: unknown): void {
  const blob = new Blob([JSON.stringify(value, null, 2) + "\n"], { type: "application/json" });
  const url = URL.createObjectURL(blob);
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function fmtTime(iso: string | null | undefined): string {
  if (!iso) return "unknown";
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.(\d+)Z$/, ".$1 UTC");
}

/** Moves focus to a freshly rendered result so keyboard and screen-reader users land on it. */
export function focusResult(el: HTMLElement): void {
  el.setAttribute("tabindex", "-1");
  el.focus({ preventScroll: false });
}

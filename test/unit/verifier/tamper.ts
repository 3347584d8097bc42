/**
 * Reusable mutations of an export (array of NDJSON lines) for tamper tests. Each returns a new
 * array and never touches the input. Entries are addressed by seq, other lines by kind.
 */
export type Lines = readonly string[];
type Json = Record<string, any>;

/** Index of the `entry` line with this seq (throws if absent). */
export function entryIndex(lines: Lines, seq: number): number {
  const i = lines.findIndex((l) => {
    try {
      const v = JSON.parse(l);
      return v.kind === "entry" && v.entry?.seq === seq;
    } catch {
      return false;
    }
  });
  if (i < 0) throw new Error(`no entry line with seq ${seq}`);
  return i;
}

/** Index of the first line of this kind (throws if absent). */
export function kindIndex(lines: Lines, kind: string, nth = 0): number {
  let n = 0;
  for (let i = 0; i < lines.length; i++) {
    try {
      if (JSON.parse(lines[i]!).kind === kind && n++ === nth) return i;
    } catch {
      /* skip */
    }
  }
  throw new Error(`no ${kind} line #${nth}`);
}

/** Flips the lowest bit of one character (default the last) of a string: '0'↔'1', 'a'↔'`', 'A'↔'@'… */
export function flipBit(s: string, at = s.length - 1): string {
  const c = s.charCodeAt(at) ^ 1;
  return s.slice(0, at) + String.fromCharCode(c) + s.slice(at + 1);
}

/** Flips a bit in a hex/base64 string so it stays in its alphabet: a character in the middle is changed to a sibling. */
export function flipBitKeepAlphabet(s: string, at = Math.floor(s.length / 2)): string {
  const ch = s[at]!;
  const swap: Record<string, string> = {
    "0": "1",
    "1": "0",
    a: "b",
    b: "a",
    A: "B",
    B: "A",
    c: "d",
    d: "c",
    e: "f",
    f: "e",
    "2": "3",
    "3": "2",
    "4": "5",
    "5": "4",
    "6": "7",
    "7": "6",
    "8": "9",
    "9": "8",
  };
  const to = swap[ch] ?? (ch === "x" ? "y" : "x");
  return s.slice(0, at) + to + s.slice(at + 1);
}

function getPath(o: Json, path: string): { parent: Json; key: string } {
  const parts = path.split(".");
  let cur = o;
  for (const p of parts.slice(0, -1)) cur = cur[p];
  return { parent: cur, key: parts.at(-1)! };
}

/** Replaces the parsed JSON of line i with fn's result. */
export function editLine(lines: Lines, i: number, fn: (v: Json) => Json | void): string[] {
  const out = [...lines];
  const v = JSON.parse(out[i]!);
  out[i] = JSON.stringify(fn(v) ?? v);
  return out;
}

/** Edits the entry with this seq in place (its hash and sig are left as they were). */
export function editEntry(lines: Lines, seq: number, fn: (e: Json) => Json | void): string[] {
  return editLine(lines, entryIndex(lines, seq), (v) => {
    v.entry = fn(v.entry) ?? v.entry;
  });
}

/** Flips one bit in a field of entry `seq` (dotted path). Numbers get bit 0 flipped; strings keep their alphabet; booleans invert. */
export function flipEntryField(lines: Lines, seq: number, path: string): string[] {
  return editEntry(lines, seq, (e) => {
    const { parent, key } = getPath(e, path);
    parent[key] = flipValue(parent[key]);
  });
}

/** Flips one bit in a field of the line at index i (dotted path from the line's root). */
export function flipLineField(lines: Lines, i: number, path: string): string[] {
  return editLine(lines, i, (v) => {
    const { parent, key } = getPath(v, path);
    parent[key] = flipValue(parent[key]);
  });
}

export function flipValue(v: unknown): unknown {
  if (typeof v === "number") return v ^ 1;
  if (typeof v === "boolean") return !v;
  if (typeof v === "string") return v.includes("-----BEGIN") ? flipPemBody(v) : flipBitKeepAlphabet(v);
  throw new Error(`cannot flip ${typeof v}`);
}

/** Flips a bit inside a PEM's DER (well inside the body, keeping valid base64). */
export function flipPemBody(pem: string): string {
  const start = pem.indexOf("\n") + 1;
  return flipBitKeepAlphabet(pem, start + Math.floor((pem.lastIndexOf("-----END") - start) / 2));
}

export function deleteLine(lines: Lines, i: number): string[] {
  return lines.filter((_, j) => j !== i);
}
export const deleteEntry = (lines: Lines, seq: number) => deleteLine(lines, entryIndex(lines, seq));

export function insertLine(lines: Lines, at: number, line: string): string[] {
  return [...lines.slice(0, at), line, ...lines.slice(at)];
}
export function duplicateEntry(lines: Lines, seq: number): string[] {
  const i = entryIndex(lines, seq);
  return insertLine(lines, i + 1, lines[i]!);
}
export function swapEntries(lines: Lines, a: number, b: number): string[] {
  const out = [...lines];
  const i = entryIndex(lines, a);
  const j = entryIndex(lines, b);
  [out[i], out[j]] = [out[j]!, out[i]!];
  return out;
}

/** Drops the last n entry lines (and their payload lines); keeps or drops the checkpoint. */
export function truncateTail(lines: Lines, n: number, keepCheckpoint: boolean): string[] {
  const kinds = lines.map((l) => JSON.parse(l).kind as string);
  const entryIdx = kinds.flatMap((k, i) => (k === "entry" ? [i] : []));
  const cut = entryIdx[entryIdx.length - n]!;
  const tail = lines.slice(cut).filter((l) => keepCheckpoint && JSON.parse(l).kind === "checkpoint");
  return [...lines.slice(0, cut), ...tail];
}

/** Replaces the line of a kind (header, crl, checkpoint…) via fn. */
export function editKind(lines: Lines, kind: string, fn: (v: Json) => Json | void, nth = 0): string[] {
  return editLine(lines, kindIndex(lines, kind, nth), fn);
}

/**
 * The export as the server writes it (FORMATS.md): each entry's keys in JCS order with `hash` and
 * `sig` appended — the shape the verifier's fast path recognises. Other lines are unchanged.
 */
export function serverFormat(lines: Lines): string[] {
  const sortDeep = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sortDeep);
    if (v && typeof v === "object")
      return Object.fromEntries(
        Object.keys(v)
          .sort()
          .map((k) => [k, sortDeep((v as Json)[k])]),
      );
    return v;
  };
  return lines.map((l) => {
    let v: Json;
    try {
      v = JSON.parse(l);
    } catch {
      return l;
    }
    if (v?.kind !== "entry" || typeof v.entry !== "object" || v.entry === null) return l;
    const { hash, sig, ...rest } = v.entry;
    return JSON.stringify({ kind: "entry", entry: { ...(sortDeep(rest) as Json), hash, sig } });
  });
}

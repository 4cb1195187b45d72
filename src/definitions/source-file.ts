/**
 * One pipeline file: its text, its parsed YAML document (kept for positions), and the
 * mapping from a value path (`['assets', 3, 'deps', 0]`) to `line:col`. Parsing is lazy
 * so that files served from the cache are only parsed when a message needs a position.
 */
import { parseDocument, isMap, isPair, isScalar, isSeq, isAlias, type Document, type Node, type Pair } from 'yaml';
import type { Diagnostic, Position } from '../diagnostics/diagnostic.js';
import { aliasBomb, indentationTab, unresolvedAlias, yamlProblems } from './yaml-errors.js';
import { textProblem, type FileText } from './file-text.js';
import { fastParseYaml, type NodeStart } from './fast-yaml.js';

/** A path into a value: object keys and array indexes. */
export type ValuePath = ReadonlyArray<string | number>;

export interface ParsedFile {
  /** The document as plain data (merge keys applied), or undefined when it did not parse. */
  value: unknown;
  diagnostics: Diagnostic[];
}

export class SourceFile {
  private doc?: Document;
  /** Offsets of the first character of each line (for `at`), built on first use. */
  private lineStarts?: number[];
  /** Where nodes one and two levels deep start, when the fast path parsed the file. */
  private fastStarts?: Map<string, NodeStart>;

  /** `display` is the path shown in messages (relative to the working directory). */
  private source: string | (() => string);
  /** Where the file's bytes stop being valid UTF-8, when they do. */
  private readonly invalidUtf8: FileText['invalidUtf8'];

  /**
   * `display` is the path shown in messages (relative to the working directory); `text`
   * is the content (as {@link readFileText} read it, to know whether its bytes were valid
   * UTF-8), or a function that reads it (a file served from the cache is read only if a
   * message needs a position in it).
   */
  constructor(readonly display: string, text: string | FileText | (() => string)) {
    if (typeof text === 'object') {
      this.source = text.text;
      this.invalidUtf8 = text.invalidUtf8;
    } else this.source = text;
  }

  /** The file's text (read on first use when it was given as a function). */
  get text(): string {
    if (typeof this.source === 'function') this.source = this.source();
    return this.source;
  }

  /**
   * Parses the file: bytes that are not UTF-8, forbidden characters (NUL), YAML syntax
   * errors (a tab in indentation named as such), duplicate keys and alias bombs come back
   * as diagnostics.
   */
  parse(): ParsedFile {
    const bad = textProblem({ text: this.text, invalidUtf8: this.invalidUtf8 });
    if (bad) return { value: undefined, diagnostics: [{ pos: this.at(bad.offset), message: bad.message }] };
    // Plain files (nearly all) skip the yaml library's document tree; anything else, errors included, takes it.
    const fast = fastParseYaml(this.text);
    if (fast) {
      this.fastStarts = fast.starts;
      return { value: fast.value ?? {}, diagnostics: [] };
    }
    const doc = this.document();
    const diagnostics: Diagnostic[] = yamlProblems(doc, this.text, indentationTab(doc, this.text)).map((p) => ({ pos: this.at(p.offset), message: p.message }));
    if (diagnostics.length > 0) return { value: undefined, diagnostics };
    const bomb = this.text.includes('&') ? aliasBomb(doc) : undefined;
    if (bomb) return { value: undefined, diagnostics: [{ pos: this.at(bomb.offset), message: bomb.message }] };
    for (const w of doc.warnings) diagnostics.push({ pos: this.at(w.pos[0]), message: `YAML: ${cleanYamlMessage(w.message)}` });
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 10_000 });
    } catch (err) {
      const problem = unresolvedAlias(doc) ?? aliasBomb(doc, 0) ?? { offset: 0, message: `YAML: ${(err as Error).message}` };
      return { value: undefined, diagnostics: [{ pos: this.at(problem.offset), message: problem.message }] };
    }
    if (value === null || value === undefined) value = {};
    return { value, diagnostics: [] };
  }

  /**
   * Drops the parsed document. Positions are needed only for messages, which are rare once
   * a file is valid; keeping every file's document alive for them doubles the heap (and
   * the garbage collector's work) of a big project. A later `pos` parses the text again.
   */
  release(): void {
    this.doc = undefined;
  }

  /** The position of a character offset. */
  at(offset: number): Position {
    const starts = (this.lineStarts ??= lineStartsOf(this.text));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { file: this.display, line: lo + 1, col: Math.max(0, offset - starts[lo]!) + 1 };
  }

  /**
   * The position of the node at `path`, or of its key when `key` is set (for an unknown
   * property). A path through merged (`<<`) content, absent from the text, falls back to
   * the nearest ancestor that is written in the file.
   */
  pos(path: ValuePath, key = false): Position {
    if (!this.doc && this.fastStarts && path.length > 0 && path.length <= 2) {
      const s = this.fastStarts.get(path.map(String).join('\u0000'));
      if (s) return this.at(key && s.key !== undefined ? s.key : s.node);
    }
    const doc = this.document();
    let node: unknown = doc.contents;
    let found: { node: unknown; pair?: Pair } = { node };
    for (const seg of path) {
      const next = child(doc, resolveAlias(doc, found.node), seg);
      if (!next) break;
      found = next;
    }
    const target = key && found.pair && isScalar(found.pair.key) ? found.pair.key : found.node;
    const range = (target as Node | undefined)?.range;
    return this.at(range ? range[0] : 0);
  }

  private document(): Document {
    this.doc ??= parseDocument(this.text, { merge: true, prettyErrors: false, uniqueKeys: true });
    return this.doc;
  }
}

function lineStartsOf(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return starts;
}

function resolveAlias(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function child(doc: Document, node: unknown, seg: string | number, depth = 0): { node: unknown; pair?: Pair } | undefined {
  if (isMap(node)) {
    for (const item of node.items) {
      if (isPair(item) && isScalar(item.key) && String(item.key.value) === String(seg)) return { node: item.value ?? item.key, pair: item };
    }
    // Not written here: look where a merge key (`<<: *base`) brought it from, the place to fix it.
    if (depth > 20) return undefined;
    for (const item of node.items) {
      if (!isPair(item) || !isScalar(item.key) || typeof item.key.value !== 'symbol') continue;
      const sources = isSeq(item.value) ? item.value.items : [item.value];
      for (const src of sources) {
        const found = child(doc, resolveAlias(doc, src), seg, depth + 1);
        if (found) return found;
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof seg === 'number') {
    const item = node.items[seg];
    return item === undefined ? undefined : { node: item };
  }
  return undefined;
}

/** The yaml library's messages end with a source excerpt; keep the first line only. */
function cleanYamlMessage(m: string): string {
  return m.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}

/** `[line, col]` of the items of each section, kept in the cache so a valid file need not be re-parsed. */
export interface ItemPositions {
  /** Section name → position of each list item (assets, jobs, schedules, notifications, watchers). */
  lists: Record<string, Array<[number, number]>>;
  /** Section name → entry name → position (environments, secrets, runner). */
  maps: Record<string, Record<string, [number, number]>>;
}

const LIST_SECTIONS = ['assets', 'jobs', 'schedules', 'notifications', 'watchers'];
const MAP_SECTIONS = ['environments', 'secrets', 'runner'];

/** Positions of every section item of a parsed file. */
export function itemPositions(file: SourceFile, value: unknown): ItemPositions {
  const out: ItemPositions = { lists: {}, maps: {} };
  if (!value || typeof value !== 'object') return out;
  const v = value as Record<string, unknown>;
  for (const s of LIST_SECTIONS) {
    const items = v[s];
    if (Array.isArray(items)) out.lists[s] = items.map((_, i) => toPair(file.pos([s, i])));
  }
  for (const s of MAP_SECTIONS) {
    const m = v[s];
    if (m && typeof m === 'object' && !Array.isArray(m)) {
      out.maps[s] = {};
      for (const k of Object.keys(m)) out.maps[s]![k] = toPair(file.pos([s, k], true));
    }
  }
  return out;
}

function toPair(p: Position): [number, number] {
  return [p.line, p.col];
}

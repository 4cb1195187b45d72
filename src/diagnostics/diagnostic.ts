/**
 * Diagnostics: errors as values with positions. Everything a user can get wrong (YAML,
 * schema, selections, cron, flags, server answers) becomes a Diagnostic; the CLI prints
 * them as `path:line:col: message` and exits 2. Nothing deep in the runner throws a
 * string at the user.
 */

/** A place in a file; `line` and `col` count from 1. */
export interface Position {
  file: string;
  line: number;
  col: number;
}

/** One problem, with where it is when it has a place. */
export interface Diagnostic {
  message: string;
  /** Where, when the problem is in a file. */
  pos?: Position;
  /** Extra lines shown under the message (e.g. a caret under an expression). */
  detail?: string[];
}

/** The outcome of something that can fail on bad input. */
export type Result<T> = { ok: true; value: T } | { ok: false; diagnostics: Diagnostic[] };

export const ok = <T>(value: T): Result<T> => ({ ok: true, value });
export const fail = <T = never>(...diagnostics: Diagnostic[]): Result<T> => ({ ok: false, diagnostics });

/** `path:line:col: message`, or the bare message without a position. */
export function formatDiagnostic(d: Diagnostic): string {
  const head = d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.message}` : d.message;
  return d.detail && d.detail.length > 0 ? [head, ...d.detail].join('\n') : head;
}

/** Sorts diagnostics by file, line and column so output is stable. */
export function sortDiagnostics(ds: Diagnostic[]): Diagnostic[] {
  return [...ds].sort((a, b) => {
    const fa = a.pos?.file ?? '';
    const fb = b.pos?.file ?? '';
    if (fa !== fb) return fa < fb ? -1 : 1;
    return (a.pos?.line ?? 0) - (b.pos?.line ?? 0) || (a.pos?.col ?? 0) - (b.pos?.col ?? 0);
  });
}

/**
 * Thrown only at the edge (CLI actions) to carry bad-input diagnostics up to the one
 * place that prints them and exits 2. Library code returns Result values instead.
 */
export class InputError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[] | Diagnostic | string) {
    const list = typeof diagnostics === 'string' ? [{ message: diagnostics }] : Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map(formatDiagnostic).join('\n'));
    this.name = 'InputError';
    this.diagnostics = list;
  }
}

/** Unwraps a Result or throws its diagnostics as an InputError (for CLI actions). */
export function unwrap<T>(r: Result<T>): T {
  if (r.ok) return r.value;
  throw new InputError(r.diagnostics);
}

/**
 * Diagnostics of selection expressions: a message, and under it the expression with a
 * caret line pointing at the offending span. The span is also kept on the diagnostic so
 * a caller that knows where the expression sits in a file (a job's `select:`) can turn it
 * into a file position.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { closest, editDistance } from '../util/suggest.js';
import type { Span } from './ast.js';

/** A Diagnostic about a selection expression; `span` is relative to `expression`. */
export interface SelectionDiagnostic extends Diagnostic {
  span?: Span;
  /** The expression the span points into (a job's own expression for errors inside `job:`). */
  expression?: string;
}

/**
 * The two detail lines: the expression, and carets under `span` (at least one caret; a
 * span at the end points just past the last character). Control characters are shown as
 * spaces and columns count code points, so the caret lines up in a terminal.
 */
export function caretLines(text: string, span: Span): string[] {
  const shown = text.replace(/[\u0000-\u001f\u007f]/g, ' ');
  const start = Math.max(0, Math.min(span.start, shown.length));
  const end = Math.max(start, Math.min(span.end, shown.length));
  const before = countCodePoints(shown.slice(0, start));
  const width = Math.max(1, countCodePoints(shown.slice(start, end)));
  return [`  ${shown}`, `  ${' '.repeat(before)}${'^'.repeat(width)}`];
}

function countCodePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** A diagnostic with a caret under `span` of `text` (no detail when the text is unknown). */
export function selectionError(message: string, span: Span, text: string | undefined): SelectionDiagnostic {
  const d: SelectionDiagnostic = { message, span };
  if (text !== undefined) {
    d.expression = text;
    d.detail = caretLines(text, span);
  }
  return d;
}

/**
 * `closest`, keeping only the names as close as the best one (or the names it is the
 * start of), so a one-letter typo is not followed by unrelated names that merely fall
 * within the typo distance.
 */
export function nearestNames(name: string, candidates: Iterable<string>): string[] {
  const near = closest(name, candidates);
  if (near.length < 2) return near;
  const lower = name.toLowerCase();
  // A name cut short (`stat`, `sink`) means the names it starts.
  const completions = near.filter((c) => c.toLowerCase().startsWith(lower));
  if (lower.length >= 3 && completions.length > 0) return completions;
  const dist = near.map((c) => editDistance(lower, c.toLowerCase()));
  const best = Math.min(...dist);
  return near.filter((_, i) => dist[i] === best);
}

/** ` (did you mean 'a', 'b'?)` for the given suggestions, or the empty string. */
export function suggestionSuffix(suggestions: readonly string[]): string {
  const unique = [...new Set(suggestions)].slice(0, 3);
  return unique.length > 0 ? ` (did you mean ${unique.map((s) => `'${s}'`).join(', ')}?)` : '';
}

/** At most this many names are listed when none is close to what was written. */
const LIST_LIMIT = 10;

/**
 * `unknown group 'x' (did you mean 'y'?)`, or `unknown group 'x'; groups: a, b` when
 * nothing is close and there are few, or `; there are no groups` when there are none.
 * With `wildcard`, the head says `no group matches 'x*'` instead.
 */
export function unknownNameMessage(kind: string, plural: string, name: string, candidates: readonly string[], wildcard = false): string {
  const head = wildcard ? `no ${kind} matches '${name}'` : `unknown ${kind} '${name}'`;
  if (candidates.length === 0) return `${head}; there are no ${plural}`;
  const near = nearestNames(name, candidates);
  if (near.length > 0) return head + suggestionSuffix(near);
  if (candidates.length <= LIST_LIMIT) return `${head}; ${plural}: ${[...candidates].sort().join(', ')}`;
  return head;
}

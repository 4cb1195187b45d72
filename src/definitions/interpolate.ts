/**
 * `${env:NAME}`, `${env:NAME:-default}`, `${var:NAME}` and `${secret:NAME}` references in
 * string values. `$${` writes a literal `${`. Substitution is explicit about secrets: a
 * scope either resolves them, masks them as `***`, or keeps the reference as written.
 */
import type { Diagnostic, Result } from '../diagnostics/diagnostic.js';

export type RefKind = 'env' | 'var' | 'secret';

/** One reference inside a string; offsets are into that string. */
export interface Ref {
  kind: RefKind;
  name: string;
  /** The default of `${env:NAME:-default}`. */
  fallback?: string;
  start: number;
  end: number;
}

const REF = /\$(\$)?\{([^}]*)\}/g;
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * The references in `text`, or a message and offset for the first malformed one: an
 * unknown kind, a bad name, or a `${` that is never closed (`"${env:HOME"` would otherwise
 * pass as literal text).
 */
export function parseRefs(text: string): { refs: Ref[]; error?: { message: string; offset: number } } {
  const refs: Ref[] = [];
  if (!text.includes('${')) return { refs };
  let covered = 0;
  for (const m of text.matchAll(REF)) {
    const start = m.index!;
    const unclosed = unclosedRef(text, covered, start);
    if (unclosed) return { refs, error: unclosed };
    covered = start + m[0].length;
    if (m[1]) continue; // `$${...}` is an escaped literal
    const body = m[2]!;
    const colon = body.indexOf(':');
    const kind = colon < 0 ? body : body.slice(0, colon);
    if (kind !== 'env' && kind !== 'var' && kind !== 'secret') {
      return { refs, error: { offset: start, message: `unknown reference \`\${${body}}\`: write \${env:NAME}, \${env:NAME:-default}, \${var:NAME} or \${secret:NAME}` } };
    }
    let name = body.slice(colon + 1);
    let fallback: string | undefined;
    if (kind === 'env') {
      const d = name.indexOf(':-');
      if (d >= 0) {
        fallback = name.slice(d + 2);
        name = name.slice(0, d);
      }
    }
    if (!NAME.test(name)) {
      return { refs, error: { offset: start, message: `\`\${${body}}\` needs a name of letters, digits and \`_\`` } };
    }
    refs.push({ kind, name, fallback, start, end: start + m[0].length });
  }
  const unclosed = unclosedRef(text, covered, text.length);
  return unclosed ? { refs, error: unclosed } : { refs };
}

/** A `${` (not the escaped `$${`) in `text[from, to)`, which no complete reference covers. */
function unclosedRef(text: string, from: number, to: number): { message: string; offset: number } | undefined {
  for (let i = text.indexOf('${', from); i >= 0 && i < to; i = text.indexOf('${', i + 2)) {
    if (i > 0 && text[i - 1] === '$') continue;
    const shown = text.slice(i, i + 40).split('\n')[0]!;
    return { offset: i, message: `unclosed reference \`${shown}\`: a reference ends with \`}\` (write \`$\${\` for a literal \`\${\`)` };
  }
  return undefined;
}

/** Where substitution looks names up. */
export interface Scope {
  /** Process environment for `${env:..}`. */
  env: Record<string, string | undefined>;
  /** The chosen environment's variables for `${var:..}`; undefined means vars are not available here. */
  vars?: Record<string, string>;
  /**
   * How `${secret:NAME}` is handled: `keep` leaves the reference as written, `mask` writes
   * `***`, a function returns the value (undefined when it cannot).
   */
  secrets: 'keep' | 'mask' | ((name: string) => string | undefined);
}

/** Substitutes the references of one string; errors say which reference failed. */
export function substitute(text: string, scope: Scope): { value: string; errors: string[] } {
  if (!text.includes('$')) return { value: text, errors: [] };
  const { refs, error } = parseRefs(text);
  const errors: string[] = [];
  if (error) return { value: text, errors: [error.message] };
  let out = '';
  let at = 0;
  for (const r of refs) {
    out += unescape(text.slice(at, r.start));
    at = r.end;
    if (r.kind === 'env') {
      const v = scope.env[r.name];
      if (v !== undefined && v !== '') out += v;
      else if (r.fallback !== undefined) out += r.fallback;
      else {
        errors.push(`environment variable ${r.name} is not set (write \${env:${r.name}:-default} for a default)`);
      }
    } else if (r.kind === 'var') {
      const v = scope.vars?.[r.name];
      if (v === undefined) errors.push(scope.vars ? `variable \`${r.name}\` is not defined in this environment` : `\${var:${r.name}} cannot be used here`);
      else out += v;
    } else {
      if (scope.secrets === 'keep') out += text.slice(r.start, r.end);
      else if (scope.secrets === 'mask') out += '***';
      else {
        const v = scope.secrets(r.name);
        if (v === undefined) errors.push(`secret \`${r.name}\` could not be resolved`);
        else out += v;
      }
    }
  }
  out += unescape(text.slice(at));
  return { value: out, errors };
}

function unescape(s: string): string {
  return s.includes('$${') ? s.replaceAll('$${', '${') : s;
}

/** A path into a value: object keys and array indexes. */
export type ValuePath = Array<string | number>;

/**
 * Substitutes every string inside `value` (objects and arrays, recursively). Each error
 * carries the path of the string it came from, so the caller can point at its position.
 */
export function substituteDeep<T>(value: T, scope: Scope, path: ValuePath = []): { value: T; errors: Array<{ path: ValuePath; message: string }> } {
  const errors: Array<{ path: ValuePath; message: string }> = [];
  const walk = (v: unknown, p: ValuePath): unknown => {
    if (typeof v === 'string') {
      const r = substitute(v, scope);
      for (const message of r.errors) errors.push({ path: p, message });
      return r.value;
    }
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...p, i]));
    if (v && typeof v === 'object') {
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) o[k] = walk(x, [...p, k]);
      return o;
    }
    return v;
  };
  return { value: walk(value, path) as T, errors };
}

/** Names of the secrets referenced anywhere inside `value`. */
export function secretsIn(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (value.includes('${secret:')) for (const r of parseRefs(value).refs) if (r.kind === 'secret') into.add(r.name);
  } else if (Array.isArray(value)) for (const x of value) secretsIn(x, into);
  else if (value && typeof value === 'object') for (const x of Object.values(value)) secretsIn(x, into);
  return into;
}

/** Every reference inside `value` with the path of its string. */
export function refsIn(value: unknown, path: ValuePath = [], into: Array<{ path: ValuePath; ref?: Ref; error?: string }> = []): Array<{ path: ValuePath; ref?: Ref; error?: string }> {
  if (typeof value === 'string') {
    if (value.includes('${')) {
      const { refs, error } = parseRefs(value);
      for (const ref of refs) into.push({ path, ref });
      if (error) into.push({ path, error: error.message });
    }
  } else if (Array.isArray(value)) value.forEach((x, i) => refsIn(x, [...path, i], into));
  else if (value && typeof value === 'object') for (const [k, x] of Object.entries(value)) refsIn(x, [...path, k], into);
  return into;
}

export type { Diagnostic, Result };

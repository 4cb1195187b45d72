/**
 * A small GraphQL executor for the fake Dagster: parses queries (operations, variables,
 * arguments, inline fragments, aliases), validates them against the schema slice as the real
 * server does (fields, arguments, fragment conditions, variable and input types), and
 * answers only the selected fields.
 */
import { ENUMS, INPUTS, INTERFACES, OBJECTS, SCALARS, UNIONS } from './fake-dagster-schema.js';

// ---------------------------------------------------------------------------------------
// A GraphQL parser for queries (operations, variables, arguments, inline fragments, aliases).

/** A query the real server would reject (HTTP 400). */
export class GqlError extends Error {}
/** An argument value as written in a query. */
export type Value = { kind: 'var'; name: string } | { kind: 'lit'; value: unknown } | { kind: 'list'; items: Value[] } | { kind: 'obj'; fields: Record<string, Value> } | { kind: 'enum'; value: string };
/** A field or an inline fragment of a selection set. */
export type Selection = { kind: 'field'; alias: string; name: string; args: Record<string, Value>; sel: Selection[] | null } | { kind: 'inline'; on: string | null; sel: Selection[] };
/** One operation of a query document. */
export interface Operation {
  name: string | null;
  vars: Record<string, string>;
  sel: Selection[];
}

function tokenize(src: string): string[] {
  const re = /\s+|,|#[^\n]*|(\.\.\.|[{}()[\]:!$=@])|("(?:[^"\\]|\\.)*")|(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)|([_A-Za-z][_0-9A-Za-z]*)|(.)/gy;
  const out: string[] = [];
  let m: RegExpExecArray | null;
  while ((m = re.exec(src)) !== null) {
    if (m[5] !== undefined) throw new GqlError(`Syntax Error: Unexpected character "${m[5]}".`);
    const t = m[1] ?? m[2] ?? m[3] ?? m[4];
    if (t !== undefined) out.push(t);
  }
  return out;
}

/** Parses a query document into its operations. */
export function parseDocument(src: string): Operation[] {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const next = (): string => {
    const t = toks[i++];
    if (t === undefined) throw new GqlError('Syntax Error: Unexpected <EOF>.');
    return t;
  };
  const expect = (t: string): void => {
    const got = next();
    if (got !== t) throw new GqlError(`Syntax Error: Expected "${t}", found "${got}".`);
  };
  const typeRef = (): string => {
    if (peek() === '[') {
      next();
      const inner = typeRef();
      expect(']');
      return `[${inner}]${peek() === '!' ? (next(), '!') : ''}`;
    }
    const name = next();
    return peek() === '!' ? (next(), `${name}!`) : name;
  };
  const value = (): Value => {
    const t = next();
    if (t === '$') return { kind: 'var', name: next() };
    if (t === '[') {
      const items: Value[] = [];
      while (peek() !== ']') items.push(value());
      next();
      return { kind: 'list', items };
    }
    if (t === '{') {
      const fields: Record<string, Value> = {};
      while (peek() !== '}') {
        const k = next();
        expect(':');
        fields[k] = value();
      }
      next();
      return { kind: 'obj', fields };
    }
    if (t.startsWith('"')) return { kind: 'lit', value: JSON.parse(t) as string };
    if (/^-?\d/.test(t)) return { kind: 'lit', value: Number(t) };
    if (t === 'true' || t === 'false') return { kind: 'lit', value: t === 'true' };
    if (t === 'null') return { kind: 'lit', value: null };
    return { kind: 'enum', value: t };
  };
  const selectionSet = (): Selection[] => {
    expect('{');
    const sel: Selection[] = [];
    while (peek() !== '}') {
      if (peek() === '...') {
        next();
        if (peek() !== 'on') throw new GqlError('The fake Dagster supports inline fragments only (`... on Type { }`).');
        next();
        const on = next();
        sel.push({ kind: 'inline', on, sel: selectionSet() });
        continue;
      }
      let name = next();
      let alias = name;
      if (peek() === ':') {
        next();
        name = next();
      }
      const args: Record<string, Value> = {};
      if (peek() === '(') {
        next();
        while (peek() !== ')') {
          const a = next();
          expect(':');
          args[a] = value();
        }
        next();
      }
      sel.push({ kind: 'field', alias, name, args, sel: peek() === '{' ? selectionSet() : null });
    }
    next();
    return sel;
  };
  const ops: Operation[] = [];
  while (i < toks.length) {
    if (peek() === '{') {
      ops.push({ name: null, vars: {}, sel: selectionSet() });
      continue;
    }
    const kw = next();
    if (kw !== 'query') throw new GqlError(`The fake Dagster answers queries only, not \`${kw}\`.`);
    const name = peek() !== '(' && peek() !== '{' ? next() : null;
    const vars: Record<string, string> = {};
    if (peek() === '(') {
      next();
      while (peek() !== ')') {
        expect('$');
        const v = next();
        expect(':');
        vars[v] = typeRef();
        if (peek() === '=') throw new GqlError('The fake Dagster does not support variable defaults.');
      }
      next();
    }
    ops.push({ name, vars, sel: selectionSet() });
  }
  return ops;
}

// ---------------------------------------------------------------------------------------
// Validation and execution against the schema slice.

const named = (t: string): string => t.replace(/[[\]!]/g, '');

function fieldsOf(type: string): Record<string, string | { type: string; args: Record<string, string> }> | undefined {
  return OBJECTS[type]?.fields ?? INTERFACES[type];
}

function possibleTypes(type: string): string[] {
  if (OBJECTS[type]) return [type];
  if (UNIONS[type]) return UNIONS[type]!;
  return Object.keys(OBJECTS).filter((o) => OBJECTS[o]!.implements?.includes(type));
}

/** Checks a selection set against `type` (fields, arguments, fragment conditions, variable types). */
export function validate(sel: Selection[], type: string, vars: Record<string, string>): void {
  for (const s of sel) {
    if (s.kind === 'inline') {
      const on = s.on ?? type;
      if (!OBJECTS[on] && !INTERFACES[on] && !UNIONS[on]) throw new GqlError(`Unknown type "${on}".`);
      if (!possibleTypes(on).some((t) => possibleTypes(type).includes(t))) throw new GqlError(`Fragment cannot be spread here as objects of type "${type}" can never be of type "${on}".`);
      validate(s.sel, on, vars);
      continue;
    }
    if (s.name === '__typename') continue;
    const fields = fieldsOf(type);
    const f = fields?.[s.name];
    if (!f) throw new GqlError(`Cannot query field "${s.name}" on type "${type}".${UNIONS[type] ? ' Did you mean to use an inline fragment?' : ''}`);
    const ftype = typeof f === 'string' ? f : f.type;
    const fargs = typeof f === 'string' ? {} : f.args;
    for (const [a, v] of Object.entries(s.args)) {
      const at = fargs[a];
      if (!at) throw new GqlError(`Unknown argument "${a}" on field "${type}.${s.name}".`);
      if (v.kind === 'var') {
        const vt = vars[v.name];
        if (!vt) throw new GqlError(`Variable "$${v.name}" is not defined.`);
        if (vt.replace(/!$/, '') !== at.replace(/!$/, '') || (at.endsWith('!') && !vt.endsWith('!'))) throw new GqlError(`Variable "$${v.name}" of type "${vt}" used in position expecting type "${at}".`);
      }
    }
    for (const [a, at] of Object.entries(fargs)) if (at.endsWith('!') && !(a in s.args)) throw new GqlError(`Field "${s.name}" argument "${a}" of type "${at}" is required, but it was not provided.`);
    const base = named(ftype);
    if (SCALARS.has(base) || ENUMS[base]) {
      if (s.sel) throw new GqlError(`Field "${s.name}" must not have a selection since type "${ftype}" has no subfields.`);
    } else {
      if (!s.sel) throw new GqlError(`Field "${s.name}" of type "${ftype}" must have a selection of subfields.`);
      validate(s.sel, base, vars);
    }
  }
}

/** Coerces a variable's value to its declared type, as GraphQL does (errors name the variable). */
export function coerce(value: unknown, type: string, where: string): unknown {
  if (value === undefined || value === null) {
    if (type.endsWith('!')) throw new GqlError(`Variable "${where}" of non-null type "${type}" must not be null.`);
    return null;
  }
  const t = type.replace(/!$/, '');
  if (t.startsWith('[')) {
    const inner = t.slice(1, -1);
    return (Array.isArray(value) ? value : [value]).map((v, i) => coerce(v, inner, `${where}[${i}]`));
  }
  const bad = (): never => {
    throw new GqlError(`Variable "${where}" got invalid value ${JSON.stringify(value)}; ${t} cannot represent it.`);
  };
  if (t === 'Float') return typeof value === 'number' && Number.isFinite(value) ? value : bad();
  if (t === 'Int') return Number.isInteger(value) ? value : bad();
  if (t === 'String') return typeof value === 'string' ? value : bad();
  if (t === 'ID') return typeof value === 'string' || Number.isInteger(value) ? String(value) : bad();
  if (t === 'Boolean') return typeof value === 'boolean' ? value : bad();
  if (ENUMS[t]) return typeof value === 'string' && ENUMS[t]!.includes(value) ? value : bad();
  const input = INPUTS[t];
  if (!input) throw new GqlError(`Unknown type "${t}".`);
  if (typeof value !== 'object' || Array.isArray(value)) return bad();
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    if (!input[k]) throw new GqlError(`Variable "${where}" got invalid value ${JSON.stringify(value)}; Field "${k}" is not defined by type "${t}".`);
    out[k] = coerce(v, input[k]!, `${where}.${k}`);
  }
  for (const [k, ft] of Object.entries(input)) if (ft.endsWith('!') && out[k] === undefined) throw new GqlError(`Variable "${where}" got invalid value; Field "${k}" of required type "${ft}" was not provided.`);
  return out;
}

function argValue(v: Value, vars: Record<string, unknown>): unknown {
  switch (v.kind) {
    case 'var':
      return vars[v.name] ?? null;
    case 'lit':
      return v.value;
    case 'enum':
      return v.value;
    case 'list':
      return v.items.map((x) => argValue(x, vars));
    case 'obj':
      return Object.fromEntries(Object.entries(v.fields).map(([k, x]) => [k, argValue(x, vars)]));
  }
}

type Resolver = (args: Record<string, unknown>) => unknown;

/** Answers a validated selection set from `obj` (functions are resolvers taking the arguments). */
export function execute(sel: Selection[], obj: Record<string, unknown>, type: string, vars: Record<string, unknown>, out: Record<string, unknown> = {}): Record<string, unknown> {
  const concrete = typeof obj['__typename'] === 'string' ? (obj['__typename'] as string) : type;
  for (const s of sel) {
    if (s.kind === 'inline') {
      if (possibleTypes(s.on ?? concrete).includes(concrete)) execute(s.sel, obj, concrete, vars, out);
      continue;
    }
    if (s.name === '__typename') {
      out[s.alias] = concrete;
      continue;
    }
    const f = fieldsOf(concrete)![s.name]!;
    const ftype = typeof f === 'string' ? f : f.type;
    const raw = obj[s.name];
    const args = Object.fromEntries(Object.entries(s.args).map(([k, v]) => [k, argValue(v, vars)]));
    const value = typeof raw === 'function' ? (raw as Resolver)(args) : raw;
    out[s.alias] = complete(value, ftype, s, vars, `${concrete}.${s.name}`);
  }
  return out;
}

function complete(value: unknown, type: string, s: Extract<Selection, { kind: 'field' }>, vars: Record<string, unknown>, path: string): unknown {
  if (value === undefined || value === null) {
    if (type.endsWith('!')) throw new Error(`Cannot return null for non-nullable field ${path}.`);
    return null;
  }
  const t = type.replace(/!$/, '');
  if (t.startsWith('[')) return (value as unknown[]).map((v) => complete(v, t.slice(1, -1), s, vars, path));
  if (!s.sel) return value;
  return execute(s.sel, value as Record<string, unknown>, t, vars);
}

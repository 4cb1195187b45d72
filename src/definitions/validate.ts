/**
 * Schema validation of pipeline files with Ajv, and the translation of Ajv's errors into
 * messages a user understands, each at the position of the offending node.
 */
import type { ErrorObject, ValidateFunction } from 'ajv';
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import type { SourceFile, ValuePath } from './source-file.js';
import { didYouMean } from '../util/suggest.js';
import { compileValidators, type Validators } from './validators.js';

let validators: Validators | undefined;

/** The compiled validators (compiled once per process). */
export function getValidators(): Validators {
  validators ??= compileValidators();
  return validators;
}

/** Validates a parsed pipeline file; diagnostics point into `file`. */
export function validatePipelineFile(value: unknown, file: SourceFile): Diagnostic[] {
  const v = getValidators().pipeline;
  if (v(value)) return [];
  return humanize(v.errors ?? [], file, []);
}

/** Validates a handler's config (after substitution) against the handler's schema. */
export function validateHandlerConfig(handler: string, config: unknown, file: SourceFile, configPath: ValuePath, context = ''): Diagnostic[] | undefined {
  const v: ValidateFunction | undefined = getValidators().handlers[handler];
  if (!v) return undefined;
  if (v(config)) return [];
  return humanize(v.errors ?? [], file, configPath).map((d) => (context ? { ...d, message: `${d.message} ${context}` } : d));
}

/** Names of the handlers that have a config schema (the `command`, `openmetadata`, ...). */
export function knownHandlers(): string[] {
  return Object.keys(getValidators().handlers);
}

/** Turns Ajv errors into one clear message per problem, at the node's position. */
export function humanize(errors: ErrorObject[], file: SourceFile, base: ValuePath): Diagnostic[] {
  const kept = prune(errors);
  const out: Diagnostic[] = [];
  const seen = new Set<string>();
  for (const e of kept) {
    const path = [...base, ...pointerToPath(e.instancePath)];
    const { message, key: keyPos, extraPath } = describe(e, path);
    // Errors inside `propertyNames` are about a property's name: point at that name.
    const propertyName = (e as ErrorObject & { propertyName?: string }).propertyName;
    const full = extraPath ? [...path, extraPath] : propertyName !== undefined ? [...path, propertyName] : path;
    const key = keyPos || propertyName !== undefined;
    const pos = file.pos(full, key);
    // An unknown or badly named property is described from its parent: `asset \`a/b\`: unknown property \`dep\``.
    const text = `${where(path, e.data, base.length === 0)}${message}`;
    const id = `${pos.line}:${pos.col}:${text}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push({ pos, message: text });
  }
  return out;
}

/**
 * Drops errors that only restate others: `if` wrappers, and the per-branch errors of a
 * oneOf/anyOf, replaced by the errors of the branch that came closest (the one whose
 * `type`-like discriminator matched, else the one with the fewest errors).
 */
function prune(errors: ErrorObject[]): ErrorObject[] {
  // A `propertyNames` error only wraps the error about the name itself, which says why.
  const badNames = new Set(errors.map((e) => (e as ErrorObject & { propertyName?: string }).propertyName).filter((n) => n !== undefined));
  let list = errors.filter((e) => e.keyword !== 'if' && !(e.keyword === 'propertyNames' && badNames.has(String(e.params.propertyName))));
  const unions = list.filter((e) => e.keyword === 'oneOf' || e.keyword === 'anyOf');
  // Handle the outermost unions first so nested ones are considered inside their branch.
  unions.sort((a, b) => a.schemaPath.length - b.schemaPath.length);
  for (const u of unions) {
    if (!list.includes(u)) continue;
    const prefix = u.schemaPath + '/';
    const inside = list.filter((e) => e !== u && e.schemaPath.startsWith(prefix));
    const branches = new Map<string, ErrorObject[]>();
    for (const e of inside) {
      const b = e.schemaPath.slice(prefix.length).split('/')[0]!;
      (branches.get(b) ?? branches.set(b, []).get(b)!).push(e);
    }
    const allRequired = isRequiredUnion(u);
    list = list.filter((e) => !inside.includes(e));
    if (allRequired || branches.size === 0) continue; // the union's own message says it all
    const best = pickBranch([...branches.values()]);
    list = list.filter((e) => e !== u).concat(best);
  }
  return list;
}

function isRequiredUnion(e: ErrorObject): boolean {
  const alts = (e.schema as unknown[] | undefined) ?? [];
  return Array.isArray(alts) && alts.length > 0 && alts.every((a) => a && typeof a === 'object' && 'required' in (a as object) && Object.keys(a as object).every((k) => k === 'required' || k === 'not'));
}

function pickBranch(branches: ErrorObject[][]): ErrorObject[] {
  const discriminatorFailed = (errs: ErrorObject[]) =>
    errs.some((e) => (e.keyword === 'const' || e.keyword === 'enum') && /\/(type|method|kind|dbtConfigType)$/.test(e.instancePath));
  const candidates = branches.filter((b) => !discriminatorFailed(b));
  const pool = candidates.length > 0 ? candidates : branches;
  return pool.reduce((a, b) => (b.length < a.length ? b : a));
}

function describe(e: ErrorObject, path: ValuePath): { message: string; key?: boolean; extraPath?: string } {
  const p = e.params as Record<string, unknown>;
  const ps = e.parentSchema as { description?: string; properties?: Record<string, unknown> } | undefined;
  switch (e.keyword) {
    case 'required':
      return { message: `missing required property \`${p.missingProperty}\`` };
    case 'additionalProperties': {
      const name = String(p.additionalProperty);
      const known = Object.keys(ps?.properties ?? {});
      const what = path.length === 0 && e.schemaPath === '#/additionalProperties' ? 'section' : 'property';
      return { message: `unknown ${what} \`${name}\`${didYouMean(name, known)}`, key: true, extraPath: name };
    }
    case 'type':
      return { message: `must be ${article(String(p.type))}, not ${typeName(e.data)}` };
    case 'enum': {
      const allowed = p.allowedValues as unknown[];
      // Suggestions help with words, not with numbers.
      const hint = typeof e.data === 'string' && allowed.every((v) => typeof v === 'string') ? didYouMean(e.data, allowed as string[]) : '';
      return { message: `must be one of ${allowed.map((v) => `\`${v}\``).join(', ')}, not \`${String(e.data)}\`${hint}` };
    }
    case 'const':
      return { message: `must be \`${String(p.allowedValue)}\`, not \`${String(e.data)}\`` };
    case 'pattern':
    case 'format': {
      // Descriptions read "A duration: a number ..."; say "is not a valid duration: a number ...".
      const named = ps?.description ? /^An? ([^:.]+): ([\s\S]*)$/.exec(ps.description) : null;
      if (named) return { message: `\`${String(e.data)}\` is not a valid ${named[1]}: ${named[2]}` };
      return { message: `\`${String(e.data)}\` is not valid${ps?.description ? `: ${lowerFirst(ps.description)}` : e.keyword === 'format' ? ` (expected format ${p.format})` : ` (expected to match ${p.pattern})`}` };
    }
    case 'minLength':
      return { message: Number(p.limit) === 1 ? 'must not be empty' : `must be at least ${p.limit} characters long` };
    case 'minItems':
      return { message: `must have at least ${p.limit} item${Number(p.limit) === 1 ? '' : 's'}` };
    case 'maxItems':
      return { message: `must have at most ${p.limit} items` };
    case 'uniqueItems': {
      const item = Array.isArray(e.data) ? e.data[Number(p.i)] : undefined;
      const shown = item !== null && typeof item !== 'object' ? `\`${String(item)}\`` : `item ${Number(p.i) + 1}`;
      const [a, b] = [Number(p.i), Number(p.j)].sort((x, y) => x - y);
      return { message: `lists ${shown} twice (items ${a! + 1} and ${b! + 1})` };
    }
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return { message: `must be ${String(p.comparison)} ${String(p.limit)}, not ${String(e.data)}` };
    case 'propertyNames':
      return { message: `has an invalid name \`${String(p.propertyName)}\``, key: true, extraPath: String(p.propertyName) };
    case 'oneOf':
    case 'anyOf':
      return { message: unionMessage(e) };
    case 'not':
      return { message: notMessage(e) };
    default:
      return { message: e.message ?? `is invalid (${e.keyword})` };
  }
  void path;
}

function unionMessage(e: ErrorObject): string {
  const alts = (e.schema as Array<{ required?: string[] }>) ?? [];
  if (isRequiredUnion(e)) {
    const names = alts.flatMap((a) => a.required ?? []).map((n) => `\`${n}\``);
    return e.keyword === 'oneOf' ? `needs exactly one of ${names.join(' or ')}` : `needs at least one of ${names.join(' or ')}`;
  }
  const passing = (e.params as { passingSchemas?: number[] }).passingSchemas;
  if (passing) return 'matches more than one of the allowed forms';
  return 'matches none of the allowed forms';
}

function notMessage(e: ErrorObject): string {
  const ps = e.parentSchema as { description?: string } | undefined;
  if ((e.schema as { pattern?: string } | undefined)?.pattern && ps?.description && typeof e.data === 'string') {
    return `\`${e.data}\` is not allowed: ${lowerFirst(ps.description.replace(/^One argument\. /, ''))}`;
  }
  const req = (e.schema as { required?: string[] } | undefined)?.required;
  if (req && req.length > 1) return `${req.map((n) => `\`${n}\``).join(' and ')} cannot be used together`;
  return 'is not allowed here';
}

/** Sections whose items are named in messages: `asset \`a/b\`: ...` rather than `assets: ...`. */
const ITEM_NAMES: Record<string, { label: string; nameProp?: string }> = {
  assets: { label: 'asset', nameProp: 'key' },
  jobs: { label: 'job', nameProp: 'name' },
  schedules: { label: 'schedule', nameProp: 'name' },
  notifications: { label: 'notification', nameProp: 'name' },
  watchers: { label: 'watcher', nameProp: 'name' },
  secrets: { label: 'secret' },
  environments: { label: 'environment' },
};

/**
 * The prefix that says what a message is about: the last property name of the path, or,
 * for a whole section item of a pipeline file, the item (`schedule \`nightly\`: `).
 */
function where(path: ValuePath, data: unknown, fileLevel: boolean): string {
  const isDefaultEnv = path[0] === 'environments' && path[1] === 'default';
  const item = fileLevel && path.length === 2 && !isDefaultEnv ? ITEM_NAMES[String(path[0])] : undefined;
  if (item) {
    if (!item.nameProp) return `${item.label} \`${path[1]}\`: `;
    const name = data && typeof data === 'object' ? (data as Record<string, unknown>)[item.nameProp] : undefined;
    return typeof name === 'string' ? `${item.label} \`${name}\`: ` : `${item.label}: `;
  }
  const shown = path.filter((s) => typeof s === 'string');
  return shown.length > 0 ? `${shown[shown.length - 1]}: ` : '';
}

function pointerToPath(pointer: string): Array<string | number> {
  if (!pointer) return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function article(t: string): string {
  const words = t.split(',').map((w) => (w === 'integer' ? 'a whole number' : w === 'object' ? 'a mapping' : w === 'array' ? 'a list' : w === 'null' ? 'null' : `a ${w}`));
  return words.join(' or ');
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'number') return Number.isInteger(v) ? `the number ${v}` : `the number ${v}`;
  if (typeof v === 'string') return `the text \`${v.length > 40 ? v.slice(0, 40) + '…' : v}\``;
  return `${typeof v} \`${String(v)}\``;
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

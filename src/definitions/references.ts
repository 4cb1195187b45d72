/**
 * `${var:X}` and `${secret:X}` must name something defined: every variable an asset or
 * setting uses must exist in every environment, every secret in `secrets`. Then each
 * handler config is validated again per environment, with variables substituted, so a
 * variable whose value breaks the config (a URL without a scheme) is caught too.
 */
import type { Diagnostic } from '../diagnostics/diagnostic.js';
import { didYouMean } from '../util/suggest.js';
import { refsIn, substituteDeep } from './interpolate.js';
import type { Definitions } from './model.js';
import type { LoadedFile, Origins } from './build.js';
import { validateHandlerConfig } from './validate.js';
import { SCHEMAS } from './validators.js';

export function checkReferences(defs: Definitions, origins: Origins, files: LoadedFile[]): Diagnostic[] {
  const ds: Diagnostic[] = [];
  const envNames = [...defs.environments.keys()];
  const secretNames = [...defs.secrets.keys()];

  // A file without `${` has no references (most files of a big project): skip its walks.
  const withRefs = new Set(files.filter((f) => f.file.text.includes('${')).map((f) => f.file));
  for (const f of files) {
    if (!withRefs.has(f.file)) continue;
    const v = f.value as Record<string, unknown>;
    for (const section of ['assets', 'jobs', 'schedules', 'notifications', 'watchers', 'environments'] as const) {
      if (v[section] === undefined) continue;
      for (const { path, ref, error } of refsIn(v[section], [section])) {
        const pos = () => f.file.pos(path);
        if (error) {
          ds.push({ pos: pos(), message: error });
          continue;
        }
        if (!ref) continue;
        const inEnvironments = section === 'environments';
        if (ref.kind === 'secret') {
          if (inEnvironments && path[2] === 'vars') ds.push({ pos: pos(), message: `\${secret:${ref.name}} cannot be used in an environment's vars: variables are not secret` });
          else if (!defs.secrets.has(ref.name)) ds.push({ pos: pos(), message: `\${secret:${ref.name}} names no defined secret${didYouMean(ref.name, secretNames)}` });
        } else if (ref.kind === 'var') {
          if (inEnvironments && path[2] === 'openmetadata') {
            const env = defs.environments.get(String(path[1]));
            if (env && env.vars[ref.name] === undefined) ds.push({ pos: pos(), message: `\${var:${ref.name}} is not defined in environment \`${env.name}\`${didYouMean(ref.name, Object.keys(env.vars))}` });
          } else if (inEnvironments) {
            ds.push({ pos: pos(), message: `\${var:${ref.name}} cannot be used here: environments' vars and vault settings may use \${env:NAME}` });
          } else if (envNames.length === 0) {
            ds.push({ pos: pos(), message: `\${var:${ref.name}} is used but no environments are defined` });
          } else {
            const missing = envNames.filter((e) => defs.environments.get(e)!.vars[ref.name] === undefined);
            if (missing.length > 0) {
              // Suggest from the environments that lack it (the name itself exists in the others).
              const known = new Set(missing.flatMap((e) => Object.keys(defs.environments.get(e)!.vars)));
              ds.push({ pos: pos(), message: `\${var:${ref.name}} is not defined in environment${missing.length > 1 ? 's' : ''} ${missing.map((m) => `\`${m}\``).join(', ')}${didYouMean(ref.name, known)}` });
            }
          }
        }
      }
    }
  }
  if (ds.length > 0) return ds;

  // Handler configs, per environment, with variables substituted and secrets kept as written.
  const envs = envNames.length > 0 ? envNames.map((n) => defs.environments.get(n)!) : [undefined];
  // Unset ${env:..} without a default cannot be judged here; they are checked when a run resolves them.
  const envVars = envs.map((env) => (env ? substituteDeep(env.vars, { env: process.env, secrets: 'keep' }).value : {}));
  for (const a of defs.assets.values()) {
    // A config without `${` is the same in every environment, and the schema check of its
    // file already validated it against the handler's schema: nothing to add.
    const { file } = origins.assets.get(a.key)!;
    if (checkedByFileSchema(a.handler) && (!withRefs.has(file) || !hasDollarBrace(a.config))) continue;
    const reported = new Set<string>();
    for (const [i, env] of envs.entries()) {
      const vars = envVars[i]!;
      const config = substituteDeep(a.config, { env: process.env, vars, secrets: 'keep' }).value;
      const errs = validateHandlerConfig(a.handler, config, file, a.configPath, env ? `(in environment \`${env.name}\`)` : '');
      for (const d of errs ?? []) {
        const id = d.message.replace(/ \(in environment `[^`]*`\)$/, '') + (d.pos ? `@${d.pos.line}:${d.pos.col}` : '');
        if (reported.has(id)) continue;
        reported.add(id);
        ds.push(d);
      }
    }
  }
  return ds;
}

let fileSchemaHandlers: Set<string> | undefined;

/** Whether the pipeline schema itself validates this handler's config (an `if handler: X, then config: $ref`). */
function checkedByFileSchema(handler: string): boolean {
  type Cond = { if?: { properties?: { handler?: { const?: string } } }; then?: { properties?: { config?: { $ref?: string } } } };
  const asset = (SCHEMAS.pipeline as { definitions?: { Asset?: { allOf?: Cond[] } } }).definitions?.Asset;
  fileSchemaHandlers ??= new Set((asset?.allOf ?? []).filter((c) => c.then?.properties?.config?.$ref).map((c) => c.if?.properties?.handler?.const ?? ''));
  return fileSchemaHandlers.has(handler);
}

/** Whether any string inside `value` contains `${` (a reference, or an escaped `$${`). */
function hasDollarBrace(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('${');
  if (Array.isArray(value)) return value.some(hasDollarBrace);
  if (value && typeof value === 'object') return Object.values(value).some(hasDollarBrace);
  return false;
}

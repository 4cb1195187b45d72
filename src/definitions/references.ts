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

export function checkReferences(defs: Definitions, origins: Origins, files: LoadedFile[]): Diagnostic[] {
  const ds: Diagnostic[] = [];
  const envNames = [...defs.environments.keys()];
  const secretNames = [...defs.secrets.keys()];

  for (const f of files) {
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
              const known = new Set(envNames.flatMap((e) => Object.keys(defs.environments.get(e)!.vars)));
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
  for (const a of defs.assets.values()) {
    const { file } = origins.assets.get(a.key)!;
    const reported = new Set<string>();
    for (const env of envs) {
      // Unset ${env:..} without a default cannot be judged here; they are checked when a run resolves them.
      const vars = env ? substituteDeep(env.vars, { env: process.env, secrets: 'keep' }).value : {};
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

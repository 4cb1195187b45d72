/**
 * `runner render KEY --env E` for an environment with `kubernetes:`: the Secret and the
 * Job one attempt of the step would create, as YAML, with every secret value as `***`
 * (nothing is resolved). The run id is a placeholder: a real Job's name and labels carry
 * its run's id.
 */
import YAML from 'yaml';
import type { AssetDef } from '../../definitions/model.js';
import type { ResolvedEnvironment } from '../../definitions/environment.js';
import type { Handler } from '../../handlers/handler.js';
import { secretsIn } from '../../definitions/interpolate.js';
import { buildStepObjects } from './manifest.js';

/** The run id shown in rendered manifests. */
export const RENDER_RUN_ID = 'RUN_ID';

/** The YAML documents of one attempt of `asset`'s step; throws a plain message when it cannot be described. */
export function renderJobManifests(handler: Handler<any>, asset: AssetDef, config: unknown, env: ResolvedEnvironment, projectDir: string): string {
  if (!env.kubernetes) throw new Error(`environment \`${env.name}\` has no kubernetes settings`);
  if (!handler.spec) throw new Error(`handler \`${handler.name}\` cannot run in Kubernetes`);
  const secrets: Record<string, string> = {};
  for (const n of secretsIn(handler.secretRefs?.(asset, env) ?? [])) secrets[n] = '***';
  const spec = handler.spec({ asset, config, env, projectDir, secrets });
  // Every secret value is `***` already (the config is masked); the Secret's env entries are secrets by definition.
  for (const k of Object.keys(spec.secretEnv)) spec.secretEnv[k] = '***';
  const objs = buildStepObjects(spec, { runId: RENDER_RUN_ID, asset, attempt: 1 }, { settings: env.kubernetes, envName: env.name, ...(env.kubernetes.namespace ? { namespace: env.kubernetes.namespace } : {}) });
  objs.secret.metadata!.ownerReferences = [{ apiVersion: 'batch/v1', kind: 'Job', name: objs.name, uid: '<the Job uid>' }];
  const doc = (o: unknown) => new YAML.Document(o).toString({ lineWidth: 0 }).replace(/\n$/, '');
  return [`# Secret (created after the Job, owned by it; values shown masked)`, doc(objs.secret), '---', `# Job (run id ${RENDER_RUN_ID} stands for the run's id)`, doc(objs.job)].join('\n');
}

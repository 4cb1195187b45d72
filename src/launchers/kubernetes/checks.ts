/**
 * `runner check --online` for an environment with `kubernetes:`: the cluster answers, and
 * the runner's identity may do what running steps needs in the namespace (asked with
 * SelfSubjectAccessReview, so nothing is created).
 */
import { AuthorizationV1Api } from '@kubernetes/client-node';
import type { CheckResult } from '../../handlers/handler.js';
import type { KubernetesSettingsDef } from '../../definitions/model.js';
import { call, connect, describeError } from './client.js';

/** What the runner does in its namespace (the Helm chart's Role grants exactly this). */
export const NEEDED: ReadonlyArray<{ group: string; resource: string; subresource?: string; verb: string }> = [
  ...['create', 'get', 'list', 'watch', 'patch', 'delete'].map((verb) => ({ group: 'batch', resource: 'jobs', verb })),
  ...['get', 'list', 'watch'].map((verb) => ({ group: '', resource: 'pods', verb })),
  { group: '', resource: 'pods', subresource: 'log', verb: 'get' },
  ...['create', 'get'].map((verb) => ({ group: '', resource: 'secrets', verb })),
];

/** The rows: the cluster, then the permissions. */
export async function kubernetesChecks(settings: KubernetesSettingsDef, processEnv: Record<string, string | undefined> = process.env): Promise<CheckResult[]> {
  let k;
  try {
    k = connect(settings, processEnv);
  } catch (err) {
    return [{ name: 'kubernetes cluster', ok: false, detail: err instanceof Error ? err.message : String(err) }];
  }
  const server = k.config.getCurrentCluster()?.server ?? '?';
  const auth = k.config.makeApiClient(AuthorizationV1Api);
  const denied: string[] = [];
  try {
    for (const n of NEEDED) {
      const r = await call('SelfSubjectAccessReview', () =>
        auth.createSelfSubjectAccessReview({ body: { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec: { resourceAttributes: { namespace: k.namespace, verb: n.verb, group: n.group, resource: n.resource, ...(n.subresource ? { subresource: n.subresource } : {}) } } } }),
        { tries: 3 },
      );
      if (!r.status?.allowed) denied.push(`${n.verb} ${n.resource}${n.subresource ? `/${n.subresource}` : ''}`);
    }
  } catch (err) {
    return [{ name: `kubernetes cluster ${server}`, ok: false, detail: describeError(err) }];
  }
  return [
    { name: `kubernetes cluster ${server}`, ok: true, detail: `answers (namespace ${k.namespace})` },
    { name: `kubernetes permissions in namespace ${k.namespace}`, ok: denied.length === 0, detail: denied.length === 0 ? 'may run Jobs, read their pods and logs, and create their Secrets' : `not allowed: ${denied.join(', ')} (see deploy/helm/templates/role.yaml)` },
  ];
}

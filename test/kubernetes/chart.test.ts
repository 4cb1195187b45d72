/**
 * The Helm chart (deploy/helm/runner) rendered by the real `helm template` (built by
 * scripts/peers/helm.mjs at the pinned version); every object must be exactly what
 * client-node's Kubernetes API types describe, and the chart must say what the issue asks:
 * one serve with a PVC for RUNNER_HOME, probes, Prometheus annotations, RBAC limited to
 * Jobs, pods, pods/log and Secrets in its namespace, secrets only by reference.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import YAML from 'yaml';
import { PEER_PINS, peersCacheDir } from '../support/peers.js';
import { ROOT, roundTrip } from './helpers.js';
import { NEEDED } from '../../src/launchers/kubernetes/checks.js';

const version = (PEER_PINS as unknown as { helm?: string }).helm ?? '';
const HELM = path.join(peersCacheDir(), `helm-${version}`, 'bin', 'helm');
const CHART = path.join(ROOT, 'deploy/helm/runner');

/** The client-node type of each kind the chart renders. */
const TYPES: Record<string, string> = {
  Deployment: 'V1Deployment',
  Service: 'V1Service',
  ServiceAccount: 'V1ServiceAccount',
  Role: 'V1Role',
  RoleBinding: 'V1RoleBinding',
  ClusterRoleBinding: 'V1ClusterRoleBinding',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  ConfigMap: 'V1ConfigMap',
  Secret: 'V1Secret',
};

function template(sets: string[]): any[] {
  const out = execFileSync(HELM, ['template', 'runner', CHART, '--namespace', 'data', ...sets.flatMap((s) => ['--set', s])], { encoding: 'utf8', env: { ...process.env, HELM_CACHE_HOME: path.join(peersCacheDir(), 'helm-home'), HELM_CONFIG_HOME: path.join(peersCacheDir(), 'helm-home'), HELM_DATA_HOME: path.join(peersCacheDir(), 'helm-home') } });
  return YAML.parseAllDocuments(out).map((d) => d.toJS()).filter(Boolean);
}

describe.skipIf(!existsSync(HELM))(`deploy/helm/runner with helm ${version}`, () => {
  let objs: any[] = [];
  beforeAll(() => {
    objs = template(['uiToken.value=0123456789abcdef0123', 'slackWebhook.existingSecret=slack', 'pipelines.configMap.enabled=true', 'pipelines.configMap.files.platform\\.yaml=runner: {concurrency: 2}', 'vault.authDelegator=true', 'env.VAULT_ADDR=https://vault.example.org']);
  });
  const byKind = (k: string) => objs.filter((o) => o.kind === k);

  it('renders only objects that client-node\'s API types describe exactly', () => {
    expect(objs.map((o) => o.kind).sort()).toEqual(['ClusterRoleBinding', 'ConfigMap', 'Deployment', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Secret', 'Service', 'ServiceAccount']);
    for (const o of objs) expect(roundTrip(o, TYPES[o.kind]!), o.kind).toEqual(o);
  });

  it('runs one serve as a non-root user with RUNNER_HOME on the PVC, probes and Prometheus annotations', () => {
    const [d] = byKind('Deployment');
    expect(d.spec.replicas).toBe(1);
    expect(d.spec.strategy.type).toBe('Recreate');
    const pod = d.spec.template.spec;
    const c = pod.containers[0];
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(c.args).toEqual(['serve', '--host', '0.0.0.0', '--port', '3070', '--pipelines', '/app/pipelines', '--env', 'production', '--grace', '60s', '--log-format', 'json']);
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(d.spec.template.metadata.annotations).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/path': '/metrics', 'prometheus.io/port': '3070' });
    expect(c.env).toContainEqual({ name: 'RUNNER_HOME', value: '/data' });
    expect(c.volumeMounts).toContainEqual({ name: 'home', mountPath: '/data' });
    const [pvc] = byKind('PersistentVolumeClaim');
    expect(pod.volumes).toContainEqual({ name: 'home', persistentVolumeClaim: { claimName: pvc.metadata.name } });
    expect(c.volumeMounts).toContainEqual({ name: 'pipelines', mountPath: '/app/pipelines', readOnly: true });
    expect(byKind('ConfigMap')[0].data).toEqual({ 'platform.yaml': 'runner: {concurrency: 2}\n' });
    expect(pod.serviceAccountName).toBe(byKind('ServiceAccount')[0].metadata.name);
    expect(byKind('Service')[0].spec.ports).toEqual([{ name: 'http', port: 3070, targetPort: 'http', protocol: 'TCP' }]);
  });

  it('passes the UI token and the Slack webhook by Secret reference, never as a value in the pod', () => {
    const c = byKind('Deployment')[0].spec.template.spec.containers[0];
    expect(c.env).toContainEqual({ name: 'RUNNER_UI_TOKEN', valueFrom: { secretKeyRef: { name: 'runner', key: 'token' } } });
    expect(c.env).toContainEqual({ name: 'SLACK_WEBHOOK_URL', valueFrom: { secretKeyRef: { name: 'slack', key: 'url' } } });
    expect(JSON.stringify(byKind('Deployment'))).not.toContain('0123456789abcdef0123');
    expect(byKind('Secret')[0].data).toEqual({ token: Buffer.from('0123456789abcdef0123').toString('base64') });
  });

  it('limits RBAC to Jobs, pods, pods/log and Secrets in its namespace, plus auth-delegator for Vault', () => {
    const [role] = byKind('Role');
    expect(role.metadata.namespace ?? 'data').toBe('data');
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'delete'] },
    ]);
    // Everything `runner check --online` asks for is granted.
    for (const n of NEEDED) {
      const res = n.subresource ? `${n.resource}/${n.subresource}` : n.resource;
      expect(role.rules.some((r: any) => r.apiGroups.includes(n.group) && r.resources.includes(res) && r.verbs.includes(n.verb)), `${n.verb} ${res}`).toBe(true);
    }
    expect(byKind('RoleBinding')[0].subjects).toEqual([{ kind: 'ServiceAccount', name: 'runner', namespace: 'data' }]);
    expect(byKind('ClusterRoleBinding')[0].roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' });
  });

  it('renders without the optional parts', () => {
    const plain = template([]);
    expect(plain.map((o) => o.kind).sort()).toEqual(['Deployment', 'PersistentVolumeClaim', 'Role', 'RoleBinding', 'Service', 'ServiceAccount']);
    for (const o of plain) expect(roundTrip(o, TYPES[o.kind]!)).toEqual(o);
    expect(plain.find((o) => o.kind === 'Deployment').spec.template.spec.containers[0].env).toEqual([{ name: 'RUNNER_HOME', value: '/data' }, { name: 'RUNNER_ENV', value: 'production' }]);
  });
});

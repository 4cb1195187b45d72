/**
 * deploy/helm rendered by the real `helm template` (built by scripts/peers/helm.mjs), each
 * object validated against the Kubernetes API types of @kubernetes/client-node (a typed
 * round trip that loses nothing), then the fields that matter checked one by one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { V1Deployment, V1Role, V1RoleBinding, V1Service, V1PersistentVolumeClaim, V1Secret, V1ClusterRoleBinding, V1ConfigMap, V1EnvVar } from '@kubernetes/client-node';
import { find, helmMissing, lintChart, renderChart, type Manifest, type Rendered } from './helm.js';
import { lostInRoundTrip, modelOf } from './typed.js';
import { NEEDED } from '../../src/launchers/kubernetes/checks.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const TOKEN = 'ui-token-0123456789abcdef';
const WEBHOOK = 'https://hooks.slack.com/services/T000/B000/XXXXXXXXXXXXXXXXXXXX';
const base = { ui: { token: TOKEN } };

const deployment = (r: Rendered) => find(r.objects, 'Deployment') as unknown as V1Deployment;
const serve = (r: Rendered) => deployment(r).spec!.template.spec!.containers.find((c) => c.name === 'serve')!;
const envOf = (r: Rendered): Record<string, V1EnvVar> => Object.fromEntries((serve(r).env ?? []).map((e) => [e.name, e]));

beforeAll(() => {
  const missing = helmMissing();
  if (missing) throw new Error(missing);
});

describe('the typed check itself', () => {
  it('reports a misspelled or misplaced field as lost', () => {
    const d = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x' },
      spec: { selector: { matchLabels: { a: 'b' } }, template: { metadata: { labels: { a: 'b' } }, spec: { containers: [{ name: 'c', image: 'i', livenesProbe: { httpGet: { path: '/healthz', port: 'http' } } }] } } },
    } as unknown as Manifest;
    expect(lostInRoundTrip(d)).toEqual([expect.stringContaining('$.spec.template.spec.containers[0].livenesProbe')]);
    const ok = structuredClone(d) as any;
    ok.spec.template.spec.containers[0].livenessProbe = ok.spec.template.spec.containers[0].livenesProbe;
    delete ok.spec.template.spec.containers[0].livenesProbe;
    expect(lostInRoundTrip(ok)).toEqual([]);
  });
});

describe('helm template deploy/helm', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart(base);
    expect(r.exitCode, r.stderr).toBe(0);
  });

  it('renders the serve objects, each valid for its client-node type', () => {
    expect(r.objects.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual([
      'Deployment/runner',
      'PersistentVolumeClaim/runner-home',
      'Role/runner',
      'RoleBinding/runner',
      'Secret/runner',
      'Service/runner',
      'ServiceAccount/runner',
    ]);
    for (const o of r.objects) {
      expect(modelOf(o), `${o.apiVersion} ${o.kind}`).toBeDefined();
      expect(lostInRoundTrip(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
      expect(o.metadata.namespace).toBe('data-platform');
    }
  });

  it('runs one serve, replaced with Recreate, on the image of the runner version', () => {
    const d = deployment(r);
    expect(d.spec!.replicas).toBe(1);
    expect(d.spec!.strategy).toEqual({ type: 'Recreate' });
    const version = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version;
    expect(serve(r).image).toBe(`runner:${version}`);
    expect(d.spec!.selector.matchLabels).toEqual(Object.fromEntries(Object.entries(d.spec!.template.metadata!.labels!).filter(([k]) => k in d.spec!.selector.matchLabels!)));
  });

  it('passes `runner serve` flags it really has', async () => {
    const args = serve(r).args!;
    expect(args.slice(0, 5)).toEqual(['serve', '--host', '0.0.0.0', '--port', '3070']);
    const help = await execa('node', [path.join(root, 'bin/runner.js'), 'serve', '--help']);
    for (const flag of args.filter((a) => a.startsWith('--'))) expect(help.stdout).toContain(`${flag} `);
    expect(args).toEqual(['serve', '--host', '0.0.0.0', '--port', '3070', '--log-format', 'json', '--grace', '30s']);
  });

  it('probes /healthz (startup, liveness) and /readyz (readiness) on the serve port', () => {
    const c = serve(r);
    expect(c.ports).toEqual([{ name: 'http', containerPort: 3070, protocol: 'TCP' }]);
    expect(c.startupProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.livenessProbe!.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.readinessProbe!.httpGet).toEqual({ path: '/readyz', port: 'http' });
    const svc = find(r.objects, 'Service') as unknown as V1Service;
    expect(svc.spec!.ports).toEqual([{ name: 'http', port: 3070, targetPort: 'http', protocol: 'TCP' }]);
    expect(svc.spec!.selector).toEqual(deployment(r).spec!.selector.matchLabels);
  });

  it('has Prometheus scrape /metrics on that port', () => {
    const a = deployment(r).spec!.template.metadata!.annotations!;
    expect(a['prometheus.io/scrape']).toBe('true');
    expect(a['prometheus.io/path']).toBe('/metrics');
    expect(Number(a['prometheus.io/port'])).toBe(serve(r).ports![0]!.containerPort);
  });

  it('runs as a non-root user with a read-only root and no privileges', () => {
    const pod = deployment(r).spec!.template.spec!;
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: 'RuntimeDefault' } });
    expect(serve(r).securityContext).toEqual({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    expect(pod.enableServiceLinks).toBe(false);
  });

  it('keeps RUNNER_HOME on the claim, and the claim past uninstall', () => {
    const pod = deployment(r).spec!.template.spec!;
    expect(envOf(r).RUNNER_HOME!.value).toBe('/var/lib/runner');
    const mount = serve(r).volumeMounts!.find((m) => m.mountPath === '/var/lib/runner')!;
    const pvc = find(r.objects, 'PersistentVolumeClaim') as unknown as V1PersistentVolumeClaim;
    expect(pod.volumes!.find((v) => v.name === mount.name)!.persistentVolumeClaim!.claimName).toBe(pvc.metadata!.name);
    expect(pvc.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
    expect(pvc.metadata!.annotations!['helm.sh/resource-policy']).toBe('keep');
    // With a read-only root, /tmp is the only other writable place.
    expect(serve(r).volumeMounts!.map((m) => m.mountPath).sort()).toEqual(['/tmp', '/var/lib/runner']);
  });

  it('gives the service account exactly what the launcher needs, in its namespace only', () => {
    const role = find(r.objects, 'Role') as unknown as V1Role;
    expect(role.rules).toEqual([
      { apiGroups: ['batch'], resources: ['jobs'], verbs: ['create', 'get', 'list', 'watch', 'patch', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] },
      { apiGroups: [''], resources: ['pods/log'], verbs: ['get'] },
      { apiGroups: [''], resources: ['secrets'], verbs: ['create', 'get', 'list', 'delete'] },
    ]);
    // Everything the launcher needs (what `runner check --online` asks the API server for) is granted.
    for (const n of NEEDED) {
      const res = n.subresource ? `${n.resource}/${n.subresource}` : n.resource;
      expect(role.rules!.some((x) => x.apiGroups!.includes(n.group) && x.resources!.includes(res) && x.verbs.includes(n.verb)), `${n.verb} ${res}`).toBe(true);
    }
    const binding = find(r.objects, 'RoleBinding') as unknown as V1RoleBinding;
    expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: role.metadata!.name });
    expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: 'runner', namespace: 'data-platform' }]);
    expect(r.objects.some((o) => o.kind.startsWith('Cluster'))).toBe(false);
    const pod = deployment(r).spec!.template.spec!;
    expect(pod.serviceAccountName).toBe('runner');
    // The in-cluster API client and Vault's Kubernetes auth both read the mounted token.
    expect(pod.automountServiceAccountToken).toBe(true);
  });

  it('passes the UI token from a Secret, never as a literal', () => {
    expect(envOf(r).RUNNER_UI_TOKEN).toEqual({ name: 'RUNNER_UI_TOKEN', valueFrom: { secretKeyRef: { name: 'runner', key: 'ui-token' } } });
    const secret = find(r.objects, 'Secret') as unknown as V1Secret;
    expect(Buffer.from(secret.data!['ui-token']!, 'base64').toString()).toBe(TOKEN);
    expect(r.text).not.toContain(TOKEN);
    expect(envOf(r).SLACK_WEBHOOK_URL).toBeUndefined();
    expect(envOf(r).RUNNER_ENV!.value).toBe('production');
  });
});

describe('values', () => {
  it('the Slack webhook and the UI token: from the chart Secret, or from existing ones', async () => {
    const own = await renderChart({ ui: { token: TOKEN }, slack: { webhookUrl: WEBHOOK } });
    expect(own.exitCode, own.stderr).toBe(0);
    expect(envOf(own).SLACK_WEBHOOK_URL!.valueFrom).toEqual({ secretKeyRef: { name: 'runner', key: 'slack-webhook-url' } });
    expect(own.text).not.toContain(WEBHOOK);
    expect(own.text).not.toContain('XXXXXXXXXXXXXXXXXXXX');
    const secret = find(own.objects, 'Secret') as unknown as V1Secret;
    expect(Buffer.from(secret.data!['slack-webhook-url']!, 'base64').toString()).toBe(WEBHOOK);

    const existing = await renderChart({ ui: { existingSecret: 'runner-ui', existingSecretKey: 'token' }, slack: { existingSecret: 'slack', existingSecretKey: 'url' } });
    expect(existing.exitCode, existing.stderr).toBe(0);
    expect(existing.objects.some((o) => o.kind === 'Secret')).toBe(false);
    expect(envOf(existing).RUNNER_UI_TOKEN!.valueFrom).toEqual({ secretKeyRef: { name: 'runner-ui', key: 'token' } });
    expect(envOf(existing).SLACK_WEBHOOK_URL!.valueFrom).toEqual({ secretKeyRef: { name: 'slack', key: 'url' } });
    // A changed token rolls the pod only when the chart holds it.
    expect(deployment(own).spec!.template.metadata!.annotations!['checksum/secret']).toMatch(/^[0-9a-f]{64}$/);
    expect(deployment(existing).spec!.template.metadata!.annotations!['checksum/secret']).toBeUndefined();
  });

  it('the environment, the image, resources and scheduling', async () => {
    const v = await renderChart({
      ...base,
      runner: { env: 'qa', logLevel: 'debug', uiUrl: 'https://runner-qa.example.edu', grace: '2m' },
      terminationGracePeriodSeconds: 150,
      image: { repository: 'registry.example.edu/data/runner', tag: '0.1.0-abc', pullPolicy: 'Always' },
      imagePullSecrets: [{ name: 'registry' }],
      resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '2Gi' } },
      nodeSelector: { 'node-pool': 'data' },
      tolerations: [{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }],
      persistence: { storageClass: 'fast', size: '20Gi' },
    });
    expect(v.exitCode, v.stderr).toBe(0);
    for (const o of v.objects) expect(lostInRoundTrip(o), `${o.kind}/${o.metadata.name}`).toEqual([]);
    const env = envOf(v);
    expect([env.RUNNER_ENV!.value, env.RUNNER_LOG_LEVEL!.value, env.RUNNER_UI_URL!.value]).toEqual(['qa', 'debug', 'https://runner-qa.example.edu']);
    expect(serve(v).image).toBe('registry.example.edu/data/runner:0.1.0-abc');
    expect(serve(v).imagePullPolicy).toBe('Always');
    expect(serve(v).args).toContain('2m');
    expect(serve(v).resources).toEqual({ requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '2Gi' } });
    const pod = deployment(v).spec!.template.spec!;
    expect(pod.nodeSelector).toEqual({ 'node-pool': 'data' });
    expect(pod.tolerations).toEqual([{ key: 'dedicated', operator: 'Equal', value: 'data', effect: 'NoSchedule' }]);
    expect(pod.imagePullSecrets).toEqual([{ name: 'registry' }]);
    expect(pod.terminationGracePeriodSeconds).toBe(150);
    const pvc = find(v.objects, 'PersistentVolumeClaim') as unknown as V1PersistentVolumeClaim;
    expect(pvc.spec!.storageClassName).toBe('fast');
    expect(pvc.spec!.resources!.requests!.storage).toBe('20Gi');
  });

  it('pipelines from a values map: a ConfigMap, copied into the pod by an init container', async () => {
    const files = { 'platform.yaml': 'runner: {retention: {runs: 30d}}\n', 'openmetadata/trino.yaml': 'assets: []\n' };
    const v = await renderChart({ ...base, pipelines: { source: 'configMap', files } });
    expect(v.exitCode, v.stderr).toBe(0);
    const cm = find(v.objects, 'ConfigMap') as unknown as V1ConfigMap;
    expect(lostInRoundTrip(cm as unknown as Manifest)).toEqual([]);
    expect(cm.data).toEqual({ 'platform.yaml': files['platform.yaml'], 'openmetadata__trino.yaml': files['openmetadata/trino.yaml'] });
    const pod = deployment(v).spec!.template.spec!;
    const source = pod.volumes!.find((x) => x.name === 'pipelines-configmap')!;
    expect(source.configMap).toEqual({ name: cm.metadata!.name, items: [{ key: 'openmetadata__trino.yaml', path: 'openmetadata/trino.yaml' }, { key: 'platform.yaml', path: 'platform.yaml' }] });
    expect(pod.initContainers!.map((c) => c.name)).toEqual(['pipelines']);
    expect(envOf(v).RUNNER_PIPELINES!.value).toBe('/etc/runner/pipelines');
    expect(serve(v).volumeMounts).toContainEqual({ name: 'pipelines', mountPath: '/etc/runner/pipelines', readOnly: true });
    // A change of the pipelines rolls the pod (the copy is made at start).
    const changed = await renderChart({ ...base, pipelines: { source: 'configMap', files: { ...files, 'platform.yaml': 'runner: {}\n' } } });
    const sum = (x: Rendered) => deployment(x).spec!.template.metadata!.annotations!['checksum/pipelines'];
    expect(sum(v)).toMatch(/^[0-9a-f]{64}$/);
    expect(sum(changed)).not.toBe(sum(v));

    const image = await renderChart(base);
    expect(envOf(image).RUNNER_PIPELINES!.value).toBe('/app/pipelines');
    expect(deployment(image).spec!.template.spec!.initContainers).toBeUndefined();

    const existing = await renderChart({ ...base, pipelines: { source: 'configMap', existingConfigMap: 'team-pipelines' } });
    expect(existing.exitCode, existing.stderr).toBe(0);
    expect(existing.objects.some((o) => o.kind === 'ConfigMap')).toBe(false);
    expect(deployment(existing).spec!.template.spec!.volumes!.find((x) => x.name === 'pipelines-configmap')!.configMap).toEqual({ name: 'team-pipelines' });
  });

  it('Vault: address, role, mount and CA from values; system:auth-delegator only when asked', async () => {
    const v = await renderChart({ ...base, vault: { address: 'https://vault.example.edu', role: 'runner', authMount: 'k8s-data', caCert: { secretName: 'vault-ca' } } });
    expect(v.exitCode, v.stderr).toBe(0);
    const env = envOf(v);
    expect([env.VAULT_ADDR!.value, env.DAGSTER_VAULT_ROLE!.value, env.DAGSTER_VAULT_MOUNT!.value, env.VAULT_CACERT!.value]).toEqual([
      'https://vault.example.edu',
      'runner',
      'k8s-data',
      '/etc/runner/vault-ca/ca.crt',
    ]);
    expect(deployment(v).spec!.template.spec!.volumes).toContainEqual({ name: 'vault-ca', secret: { secretName: 'vault-ca' } });
    expect(v.objects.some((o) => o.kind === 'ClusterRoleBinding')).toBe(false);

    const d = await renderChart({ ...base, vault: { authDelegator: true } });
    expect(d.exitCode, d.stderr).toBe(0);
    const crb = find(d.objects, 'ClusterRoleBinding') as unknown as V1ClusterRoleBinding;
    expect(lostInRoundTrip(crb as unknown as Manifest)).toEqual([]);
    expect(crb.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:auth-delegator' });
    expect(crb.subjects).toEqual([{ kind: 'ServiceAccount', name: 'runner', namespace: 'data-platform' }]);
  });

  it('an existing claim, no persistence, an existing service account', async () => {
    const claim = await renderChart({ ...base, persistence: { existingClaim: 'runner-data' } });
    expect(claim.exitCode, claim.stderr).toBe(0);
    expect(claim.objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(deployment(claim).spec!.template.spec!.volumes!.find((x) => x.name === 'home')!.persistentVolumeClaim).toEqual({ claimName: 'runner-data' });
    const none = await renderChart({ ...base, persistence: { enabled: false } });
    expect(none.objects.some((o) => o.kind === 'PersistentVolumeClaim')).toBe(false);
    expect(deployment(none).spec!.template.spec!.volumes!.find((x) => x.name === 'home')).toEqual({ name: 'home', emptyDir: {} });
    const sa = await renderChart({ ...base, serviceAccount: { create: false, name: 'platform-runner' } });
    expect(sa.exitCode, sa.stderr).toBe(0);
    expect(sa.objects.some((o) => o.kind === 'ServiceAccount')).toBe(false);
    expect(deployment(sa).spec!.template.spec!.serviceAccountName).toBe('platform-runner');
    expect((find(sa.objects, 'RoleBinding') as unknown as V1RoleBinding).subjects![0]!.name).toBe('platform-runner');
    const unnamed = await renderChart({ ...base, serviceAccount: { create: false } });
    expect(unnamed.exitCode).not.toBe(0);
    expect(unnamed.stderr).toContain('serviceAccount.name is required when serviceAccount.create is false');
  });

  it('a ServiceMonitor and an Ingress when asked', async () => {
    const v = await renderChart({ ...base, metrics: { serviceMonitor: { enabled: true, labels: { release: 'prometheus' } } }, ingress: { enabled: true, className: 'nginx', host: 'runner.example.edu' } });
    expect(v.exitCode, v.stderr).toBe(0);
    // The Prometheus Operator's CRD has no client-node type: its shape is checked by hand.
    const sm = find(v.objects, 'ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: object }; endpoints: object[]; namespaceSelector: object } };
    expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(sm.metadata.labels!.release).toBe('prometheus');
    // It selects Services by their labels: the chart's Service has them.
    expect(Object.keys(sm.spec.selector.matchLabels).length).toBeGreaterThan(0);
    expect((find(v.objects, 'Service') as unknown as V1Service).metadata!.labels).toMatchObject(sm.spec.selector.matchLabels);
    expect(sm.spec.endpoints).toEqual([{ port: 'http', path: '/metrics', interval: '30s', scrapeTimeout: '10s' }]);
    expect(sm.spec.namespaceSelector).toEqual({ matchNames: ['data-platform'] });
    const ing = find(v.objects, 'Ingress');
    expect(lostInRoundTrip(ing)).toEqual([]);
    expect((ing as any).spec.rules[0]).toEqual({ host: 'runner.example.edu', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'runner', port: { name: 'http' } } } }] } });
  });

  it('refuses values that would not start or would leak, with a message saying which', async () => {
    const cases: [object, RegExp][] = [
      [{}, /ui\.token or ui\.existingSecret is required/],
      [{ ui: { token: 'short' } }, /ui\.token must be at least 16 characters/],
      [{ ...base, runner: { grace: '90s' }, terminationGracePeriodSeconds: 60 }, /terminationGracePeriodSeconds \(60\) must be larger than runner\.grace \(90s\)/],
      [{ ...base, runner: { extraEnv: [{ name: 'TRINO_PASSWORD', value: 'hunter2' }] } }, /runner\.extraEnv TRINO_PASSWORD looks like a secret/],
      [{ ...base, pipelines: { source: 'configMap' } }, /set pipelines\.files .* or pipelines\.existingConfigMap/],
      [{ ...base, pipelines: { source: 'configMap', files: { '../etc/x.yaml': 'a: 1' } } }, /"\.\.\/etc\/x\.yaml" is not a relative path/],
      [{ ...base, runner: { port: 'http' } }, /runner\.port|port/],
      [{ ...base, slack: { webhookUrl: 'hooks.slack.com/x' } }, /webhookUrl/],
    ];
    for (const [values, message] of cases) {
      const v = await renderChart(values);
      expect(v.exitCode, JSON.stringify(values)).not.toBe(0);
      expect(v.stderr).toMatch(message);
      expect(v.stderr).not.toContain('hunter2');
    }
  });

  it('passes helm lint --strict', async () => {
    for (const values of [base, { ...base, pipelines: { source: 'configMap', files: { 'a.yaml': 'assets: []\n' } }, vault: { authDelegator: true }, metrics: { serviceMonitor: { enabled: true } } }]) {
      const l = await lintChart(values);
      expect(l.exitCode, l.output).toBe(0);
    }
  });
});

import { describe, expect, it } from 'vitest';
import { buildInvocation, imageVersion } from '../../src/handlers/openmetadata/invocation.js';
import type { OmSettings } from '../../src/handlers/openmetadata/settings.js';

const base = { url: 'https://om.example.org/api', jwtRef: '${secret:openmetadata_jwt}', jwtSecrets: ['openmetadata_jwt'] };

describe('buildInvocation', () => {
  it('runs a command CLI with the sub-command and the workflow file, nothing else', () => {
    const s: OmSettings = { ...base, runner: { kind: 'command', argv: ['uv', 'run', 'metadata'] } };
    const inv = buildInvocation(s, { workdir: '/tmp/runner-om-1-abc', subcommand: 'profile' });
    expect(inv).toEqual({ argv: ['uv', 'run', 'metadata', 'profile', '-c', '/tmp/runner-om-1-abc/workflow.yaml'], env: {} });
  });

  it('runs a container with the directory mounted read-only and the JWT passed by name only', () => {
    const s: OmSettings = { ...base, runner: { kind: 'container', image: 'openmetadata/ingestion:1.10.4', engine: 'podman' } };
    const inv = buildInvocation(s, {
      workdir: '/tmp/runner-om-1-abc',
      subcommand: 'ingest',
      readPaths: ['/app/src/ol_dbt/target/manifest.json', '/app/src/ol_dbt/target/catalog.json', 'relative/x.json'],
      nameSuffix: 'run1/openmetadata/dbt/metadata-1',
      url: 'https://om.example.org/api',
      user: '1000:1000',
    });
    expect(inv.argv).toEqual([
      'podman', 'run', '--rm', '--name', 'runner-om-run1-openmetadata-dbt-metadata-1',
      '--user', '1000:1000', '-e', 'HOME=/tmp',
      '-v', '/tmp/runner-om-1-abc:/config:ro',
      '-v', '/app/src/ol_dbt/target:/app/src/ol_dbt/target:ro',
      '-e', 'PYTHONUNBUFFERED=1', '-e', 'RUNNER_OPENMETADATA_JWT',
      'openmetadata/ingestion:1.10.4', 'metadata', 'ingest', '-c', '/config/workflow.yaml',
    ]);
    expect(inv.container).toEqual({ engine: 'podman', name: 'runner-om-run1-openmetadata-dbt-metadata-1' });
    // Every `-e` names a variable or sets a non-secret one; no argument carries a value of the JWT variable.
    const es = inv.argv.flatMap((a, i) => (inv.argv[i - 1] === '-e' ? [a] : []));
    expect(es).toEqual(['HOME=/tmp', 'PYTHONUNBUFFERED=1', 'RUNNER_OPENMETADATA_JWT']);
  });

  it('shares the host network when the server is on loopback', () => {
    const s: OmSettings = { ...base, url: 'http://localhost:8585/api', runner: { kind: 'container', image: 'i:1.10.4', engine: 'docker' } };
    const inv = buildInvocation(s, { workdir: '/w', subcommand: 'ingest', url: s.url, user: '1:1' });
    expect(inv.argv.join(' ')).toContain('--network host');
    const remote = buildInvocation({ ...s, url: 'https://om.example.org/api' }, { workdir: '/w', subcommand: 'ingest', url: 'https://om.example.org/api', user: '1:1' });
    expect(remote.argv).not.toContain('--network');
  });

  it('reads the CLI version from an image tag', () => {
    expect(imageVersion('openmetadata/ingestion:1.10.4')).toBe('1.10.4');
    expect(imageVersion('registry:5000/openmetadata/ingestion:1.10.4-slim')).toBe('1.10.4');
    expect(imageVersion('openmetadata/ingestion:latest')).toBeUndefined();
    expect(imageVersion('registry:5000/openmetadata/ingestion')).toBeUndefined();
    expect(imageVersion('openmetadata/ingestion@sha256:abc')).toBeUndefined();
  });
});

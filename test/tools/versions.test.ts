import { describe, expect, it } from 'vitest';
import { compareVersions, matches, newestMatching, parseVersionSpec, pipSpecifier, serverSpec, type VersionSpec } from '../../src/tools/versions.js';
import { parseIndexVersions } from '../../src/tools/openmetadata.js';

const spec = (t: string): VersionSpec => {
  const r = parseVersionSpec(t);
  if (!r.ok) throw new Error(r.message);
  return r.value;
};

describe('version specs', () => {
  it('parses releases, wildcards and `server`, and nothing else', () => {
    expect(spec('1.7.7.4')).toEqual({ kind: 'exact', version: '1.7.7.4', text: '1.7.7.4' });
    expect(spec('1.7.*')).toEqual({ kind: 'wildcard', prefix: [1, 7], text: '1.7.*' });
    expect(spec('1.*')).toMatchObject({ kind: 'wildcard', prefix: [1] });
    expect(spec('server')).toEqual({ kind: 'server', text: 'server' });
    for (const bad of ['1.7.x', '1', '*', '1.7.*.4', '>=1.7', '~=1.7.0', 'latest', '1.7.7.4rc1', '', 'Server']) {
      const r = parseVersionSpec(bad);
      expect(r.ok, bad).toBe(false);
      if (!r.ok) expect(r.message).toBe(`version \`${bad}\` is not a release (\`1.7.7.4\`), a wildcard (\`1.7.*\`) or \`server\``);
    }
  });

  it('compares releases part by part, as numbers', () => {
    expect(compareVersions('1.10.0', '1.9.9')).toBeGreaterThan(0);
    expect(compareVersions('1.7.7.4', '1.7.7.10')).toBeLessThan(0);
    expect(compareVersions('1.7.0', '1.7.0.0')).toBe(0);
  });

  it('a wildcard takes the newest final release of its prefix (pip `==1.7.*`), never a pre-release', () => {
    const listed = ['2.0.7.0', '1.10.4.2', '1.7.10.0rc1', '1.7.7.4', '1.7.7.10', '1.7.0.0', '1.70.1.0', '1.6.9.9'];
    expect(newestMatching(spec('1.7.*'), listed)).toBe('1.7.7.10');
    expect(newestMatching(spec('1.*'), listed)).toBe('1.70.1.0');
    expect(newestMatching(spec('1.8.*'), listed)).toBeUndefined();
    expect(matches(spec('1.7.*'), '1.7')).toBe(false);
    expect(matches(spec('1.7.7.4'), '1.7.7.4')).toBe(true);
    expect(matches(spec('1.7.7.4'), '1.7.7.40')).toBe(false);
    expect(matches(spec('server'), '1.7.7.4')).toBe(false);
  });

  it('`server` becomes the server\'s major.minor', () => {
    expect(serverSpec('1.10.4')).toEqual({ kind: 'wildcard', prefix: [1, 10], text: '1.10.*' });
    expect(pipSpecifier(serverSpec('1.10.4'))).toBe('==1.10.*');
  });

  it('reads the releases from `pip index versions`', () => {
    const out = 'WARNING: pip index is currently an experimental command.\nopenmetadata-ingestion (2.0.7.0)\nAvailable versions: 2.0.7.0, 2.0.6.0, 1.7.7.4\n';
    expect(parseIndexVersions(out)).toEqual(['2.0.7.0', '2.0.6.0', '1.7.7.4']);
    expect(parseIndexVersions('ERROR: No matching distribution found')).toEqual([]);
  });
});

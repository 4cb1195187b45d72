import { describe, expect, it } from 'vitest';
import { assetConfigOf, examples, mutations, officialVerdict, ownValidator, rendered, runtimeRuleBroken, validateMjsVerdicts, type Json } from './corpus.js';

const own = ownValidator();

describe('the handler schema against the official OpenMetadata schemas', () => {
  const exs = examples();

  it('reads all 25 examples (12 seeds, 13 corrected)', () => {
    expect(exs.filter((e) => e.name.startsWith('seed/'))).toHaveLength(12);
    expect(exs.filter((e) => e.name.startsWith('valid/'))).toHaveLength(13);
  });

  it('gives the official verdict on every example (10 seeds rejected, every corrected form accepted)', () => {
    const verdicts: Record<string, boolean> = {};
    for (const e of exs) {
      const config = assetConfigOf(e.workflow);
      const official = officialVerdict(config).valid && runtimeRuleBroken(config) === undefined;
      const ours = own(config);
      expect({ name: e.name, valid: ours.valid, errors: ours.errors }).toEqual({ name: e.name, valid: official, errors: ours.errors });
      verdicts[e.name] = ours.valid;
    }
    expect(Object.entries(verdicts).filter(([n, v]) => n.startsWith('seed/') && v).map(([n]) => n).sort()).toEqual(['seed/airbyte-metadata.yaml', 'seed/s3-metadata.yaml']);
    expect(Object.entries(verdicts).filter(([n, v]) => n.startsWith('valid/') && !v)).toEqual([]);
  });

  it('gives the same verdict as the official schema on every mutation, stricter only where the runtime rules say', async () => {
    const cases = new Map<string, { config: Json }>();
    for (const e of exs) {
      cases.set(`${e.name}: (as is)`, { config: assetConfigOf(e.workflow) });
      for (const m of mutations(assetConfigOf(e.workflow))) cases.set(`${e.name}: ${m.what}`, { config: m.config });
    }
    // The official verdicts: ../shared/openmetadata-spec/validate.mjs itself, on every rendered workflow.
    const official = await validateMjsVerdicts(new Map([...cases].map(([k, c]) => [k, rendered(c.config)])));
    expect(official.size).toBe(cases.size);
    let rejected = 0;
    const disagreements: string[] = [];
    const byRule = new Map<string, string[]>();
    const inProcess: string[] = [];
    for (const [name, { config }] of cases) {
      const off = official.get(name)!;
      // The in-process validator (the fake CLI's) agrees with validate.mjs.
      if (officialVerdict(config).valid !== off) inProcess.push(name);
      const rule = runtimeRuleBroken(config);
      const expected = off && rule === undefined;
      const ours = own(config);
      if (!ours.valid) rejected++;
      if (ours.valid !== expected) disagreements.push(`${name}: ours ${ours.valid ? 'valid' : 'invalid'}, expected ${expected ? 'valid' : 'invalid'} (official ${off ? 'valid' : 'invalid'})\n    ours: ${ours.errors.slice(0, 5).join('; ')}`);
      if (off && rule) byRule.set(rule, [...(byRule.get(rule) ?? []), name]);
    }
    expect(inProcess).toEqual([]);
    expect(disagreements).toEqual([]);
    expect(cases.size).toBeGreaterThan(1000);
    expect(rejected).toBeGreaterThan(cases.size / 2);
    // Where the runtime rules make us stricter than the official schema, and why:
    expect([...byRule.keys()].sort()).toEqual(['a Profiler workflow needs a processor', 'a lineage source type ends in -lineage']);
    expect(byRule.get('a Profiler workflow needs a processor')!.sort()).toEqual(['valid/iceberg-profiling.yaml: remove processor', 'valid/trino-profiling.yaml: remove processor']);
  });
});

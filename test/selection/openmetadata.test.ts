/** The selections the real project's users run, on a fixture shaped like its 12 assets. */
import { describe, expect, test } from 'vitest';
import { select } from '../../src/selection/index.js';
import { OPENMETADATA_KEYS, openMetadataContext } from './helpers.js';

const ctx = openMetadataContext();

function sel(text: string): string[] {
  const r = select(text, ctx);
  if (!r.ok) throw new Error(`${text}: ${r.diagnostics.map((d) => d.message).join('; ')}`);
  return r.value;
}

describe('the OpenMetadata ingestion assets', () => {
  test('openmetadata/* and group:openmetadata select all 12', () => {
    expect(sel('openmetadata/*')).toHaveLength(12);
    expect([...sel('openmetadata/*')].sort()).toEqual([...OPENMETADATA_KEYS].sort());
    expect(sel('group:openmetadata')).toEqual(sel('openmetadata/*'));
    expect(sel('*')).toEqual(sel('openmetadata/*'));
  });

  test('job:critical_metadata_ingestion selects its 3 assets', () => {
    expect(sel('job:critical_metadata_ingestion')).toEqual(['openmetadata/dagster/metadata', 'openmetadata/dbt/metadata', 'openmetadata/trino/metadata']);
  });

  test('+openmetadata/trino/lineage selects 2, openmetadata/trino/metadata+ selects 3', () => {
    expect(sel('+openmetadata/trino/lineage')).toEqual(['openmetadata/trino/metadata', 'openmetadata/trino/lineage']);
    expect(sel('openmetadata/trino/metadata+')).toEqual(['openmetadata/trino/metadata', 'openmetadata/trino/lineage', 'openmetadata/trino/profiling']);
  });

  test('legacy names select the same assets', () => {
    expect(sel('openmetadata__trino__metadata')).toEqual(['openmetadata/trino/metadata']);
    expect(sel('openmetadata__*')).toEqual(sel('openmetadata/*'));
    expect(sel('openmetadata__trino__*')).toHaveLength(3);
    expect(sel('+openmetadata__iceberg__profiling')).toEqual(['openmetadata/iceberg/metadata', 'openmetadata/iceberg/profiling']);
  });

  test('everyday selections', () => {
    expect(sel('*/lineage')).toEqual(['openmetadata/dbt/lineage', 'openmetadata/trino/lineage']);
    expect(sel('openmetadata/*/profiling')).toEqual(['openmetadata/iceberg/profiling', 'openmetadata/trino/profiling']);
    expect(sel('kind:trino or kind:dbt')).toHaveLength(5);
    expect(sel('tag:source=iceberg+')).toEqual(['openmetadata/iceberg/metadata', 'openmetadata/iceberg/profiling']);
    expect(sel('roots(openmetadata/*)')).toHaveLength(8);
    expect(sel('sinks(openmetadata/*) and not roots(openmetadata/*)')).toEqual([
      'openmetadata/dbt/lineage', 'openmetadata/iceberg/profiling', 'openmetadata/trino/lineage', 'openmetadata/trino/profiling',
    ]);
    expect(sel('job:critical_metadata_ingestion+')).toHaveLength(6);
    expect(sel('openmetadata/* and not job:critical_metadata_ingestion')).toHaveLength(9);
  });

  test('typos get the closest names', () => {
    const r = select('openmetadata/trino/metdata or group:openmetadta', ctx);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      "unknown asset key 'openmetadata/trino/metdata' (did you mean 'openmetadata/trino/metadata'?)",
      "unknown group 'openmetadta' (did you mean 'openmetadata'?)",
    ]);
    const j = select('job:critical_metadata', ctx);
    expect(!j.ok && j.diagnostics[0]!.message).toBe("unknown job 'critical_metadata' (did you mean 'critical_metadata_ingestion'?)");
    const g = select('openmetadata', ctx);
    expect(!g.ok && g.diagnostics[0]!.message).toBe(
      "unknown asset key 'openmetadata' (did you mean 'openmetadata/*', 'group:openmetadata'?)",
    );
  });
});

describe('a typo in a pattern gets a "did you mean" like every other typo', () => {
  const message = (text: string) => {
    const r = select(text, ctx);
    if (r.ok) throw new Error(`${text} selected ${r.value.join(', ')}`);
    return r.diagnostics[0]!.message;
  };
  test.each([
    ['openmetdata/*', 'openmetadata/*'],
    ['openmetadata/trno/*', 'openmetadata/trino/*'],
    ['openmetadata/*/metdata', 'openmetadata/*/metadata'],
    ['opnmetadata*', 'openmetadata*'],
    ['openmetadata__trno__*', 'openmetadata/trino/*'],
  ])('%s: did you mean %s', (typo, fixed) => {
    expect(message(typo)).toBe(`no asset key matches '${typo}' (did you mean '${fixed}'?)`);
    expect(sel(fixed).length).toBeGreaterThan(0);
  });

  test('no guess for a pattern nothing is close to', () => {
    expect(message('zzz/*')).toBe("no asset key matches 'zzz/*'");
  });
});

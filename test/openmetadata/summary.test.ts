import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { SummaryParser, parseCliDuration, stripLine, summaryLine, summaryMetadata } from '../../src/handlers/openmetadata/summary.js';
import { OutputTail, failureMessage, summaryWarnings } from '../../src/handlers/openmetadata/failure.js';

const CAPTURED = path.resolve(__dirname, '../fixtures/openmetadata-cli');
const prefix = (m: string) => `[2024-10-15 15:28:50] INFO     {metadata.Utils:logger:181} - ${m}`;

/**
 * A closing summary as workflow_output_handler.py prints it (step blocks, then the
 * workflow's figures), without the log prefix.
 */
function referenceSummary(): string[] {
  return [
    'Workflow Mysql Summary:', 'Processed records: 91', 'Updated records: 0', 'Warnings: 0', 'Errors: 0', 'Success %: 100.0',
    'Workflow OpenMetadata Summary:', 'Processed records: 64', 'Updated records: 0', 'Warnings: 0', 'Errors: 27', 'Success %: 70.33',
    'Workflow Success %: 100.0', 'Workflow finished in time: 13.0h 24.0m 2.22s',
  ];
}

/** A line as log_ansi_encoded_string logs it: prefix, bold/colour codes, message, ESC[0m. */
const ansi = (m: string, codes = '\x1b[1m') => prefix(`${codes}${m}\x1b[0m`);

/** One captured output of the real CLI (test/fixtures/openmetadata-cli/README.md). */
function captured(name: string): string[] {
  return readFileSync(path.join(CAPTURED, name), 'utf8').trimEnd().split('\n');
}

function parse(lines: string[]) {
  const p = new SummaryParser();
  const t = new OutputTail();
  for (const l of lines) {
    p.push(l);
    t.push(l);
  }
  return { summary: p.result(), tail: t };
}

describe('the closing summary (reference format)', () => {
  it('parses the reference block, each line with the log prefix, into per-step and workflow figures', () => {
    const lines = referenceSummary();
    expect(lines[0]).toBe('Workflow Mysql Summary:');
    const { summary } = parse(lines.map(prefix));
    expect(summary).toEqual({
      form: 'current',
      steps: [
        { name: 'Mysql', processed: 91, updated: 0, warnings: 0, errors: 0, successPct: 100 },
        { name: 'OpenMetadata', processed: 64, updated: 0, warnings: 0, errors: 27, successPct: 70.33 },
      ],
      successPct: 100,
      duration: '13.0h 24.0m 2.22s',
      durationMs: (13 * 3600 + 24 * 60 + 2.22) * 1000,
      failures: [],
      failureCount: 0,
    });
    expect(summaryMetadata(summary!)).toMatchObject({ records_processed: 91, errors: 27, warnings: 0, workflow_success_pct: 100, duration_ms: 48242220, steps: [{ name: 'Mysql', success_pct: 100 }, { name: 'OpenMetadata', errors: 27, success_pct: 70.33 }] });
    expect(summaryLine(summary!)).toBe('Mysql: 91 processed, 0 updated, 0 warnings, 0 errors, 100%; OpenMetadata: 64 processed, 0 updated, 0 warnings, 27 errors, 70.33%; workflow 100% in 13.0h 24.0m 2.22s');
  });

  it('parses it without prefixes, with Airflow-style prefixes and with ANSI colours too', () => {
    const plain = parse(referenceSummary()).summary;
    const airflow = parse(referenceSummary().map((m) => `[2025-09-09T07:19:56.969+0000] {logger.py:201} INFO - ${m}`)).summary;
    const ansi = parse(referenceSummary().map((m) => `\x1b[1m${prefix(m)}\x1b[0m`)).summary;
    expect(airflow).toEqual(plain);
    expect(ansi).toEqual(plain);
    expect(plain!.steps).toHaveLength(2);
  });

  it('keeps the last summary when the CLI prints more than one', () => {
    const lines = [...referenceSummary(), 'Workflow Trino Summary:', 'Processed records: 5', 'Errors: 1', 'Success %: 83.33', 'Workflow Success %: 83.33'].map(prefix);
    const { summary } = parse(lines);
    expect(summary!.steps.map((s) => s.name)).toEqual(['Trino']);
    expect(summary!.successPct).toBe(83.33);
  });

  it('reads the older form (before 1.2), repeated while the workflow runs', () => {
    const lines = [
      'Source: Processed 10 records, filtered 0 records, found 0 errors',
      'Source: Processed 1435 records, filtered 2 records, found 0 errors',
      'Sink: Processed 0 records, found 0 errors',
    ].map(prefix);
    expect(parse(lines).summary).toMatchObject({
      form: 'legacy',
      steps: [{ name: 'Source', processed: 1435, filtered: 2, errors: 0 }, { name: 'Sink', processed: 0, errors: 0 }],
      successPct: 100,
    });
  });

  it('treats a single `Success %` after all steps (1.2–1.5) as the workflow figure, and reads `Filtered:`', () => {
    const lines = ['Workflow Trino Summary:', 'Processed records: 10', 'Updated records: 1', 'Warnings: 0', 'Filtered: 2', 'Errors: 0', 'Workflow OpenMetadata Summary:', 'Processed records: 10', 'Updated records: 0', 'Warnings: 0', 'Errors: 0', 'Success %: 100.0', 'Workflow finished in time: 4s 990.188ms'].map(prefix);
    const { summary } = parse(lines);
    expect(summary!.successPct).toBe(100);
    expect(summary!.steps[1]!.successPct).toBeUndefined();
    expect(summary!.steps[0]!.filtered).toBe(2);
    expect(summary!.durationMs).toBe(4990);
  });

  it('reads the failures table row by row, without stack traces, whatever the cells hold', () => {
    const table = [
      '+-------+----------------+----------------------+--------------------------+',
      '| From  | Entity Name    | Message              | Stack Trace              |',
      '+=======+================+======================+==========================+',
      '| Trino | db.s.t1        | Access Denied: t1 |x | Traceback (most recent   |',
      '|       |                | on line two          |   File "a.py", line 1    |',
      '+-------+----------------+----------------------+--------------------------+',
      '| Trino | db.s.t2        | Timeout              | Traceback                |',
      '+-------+----------------+----------------------+--------------------------+',
    ];
    const lines = [...referenceSummary().slice(0, 12).map(prefix), prefix('List of failures:'), prefix(''), ...table, prefix('Workflow Success %: 85.17'), prefix('Workflow finished in time: 2.5s'), prefix('Workflow finished with failures')];
    const { summary } = parse(lines);
    expect(summary!.failures).toEqual([
      { from: 'Trino', entity: 'db.s.t1', message: 'Access Denied: t1 |x on line two' },
      { from: 'Trino', entity: 'db.s.t2', message: 'Timeout' },
    ]);
    expect(summary!.failureCount).toBe(2);
    expect(summary!.successPct).toBe(85.17);
    expect(summary!.outcome).toBe('failures');
  });

  it('parses durations as the CLI prints them', () => {
    expect(parseCliDuration('13.0h 24.0m 2.22s')).toBe(48242220);
    expect(parseCliDuration('4s 990.188ms')).toBe(4990);
    expect(parseCliDuration('5.51s')).toBe(5510);
    expect(parseCliDuration('1d 2h')).toBe(93600000);
    expect(parseCliDuration('soon')).toBeUndefined();
  });

  it('strips the log prefix and reports the level', () => {
    expect(stripLine('[2024-10-15 15:28:50] ERROR    {metadata.Ingestion:x:1} - boom')).toEqual({ message: 'boom', level: 'ERROR', prefixed: true });
    expect(stripLine('plain text')).toEqual({ message: 'plain text', prefixed: false });
  });
});

describe('what the real CLI prints (1.7 and 2.0 wordings)', () => {
  it('reads the 2.0 table header `Showing the first 10 failures:` and 1.7\'s `Showing only the first 100 failures:`, with ANSI codes', () => {
    const table = ['+-------+-------------+---------+---------------+', '| From  | Entity Name | Message | Stack Trace   |', '+=======+=============+=========+===============+', '| Trino | db.s.t1     | Denied  | Traceback ... |', '+-------+-------------+---------+---------------+\x1b[0m'];
    for (const header of ['Showing the first 10 failures:', 'Showing only the first 100 failures:', 'List of failures:']) {
      const lines = [ansi('Workflow Trino Summary:'), ansi('Processed records: 9', ''), ansi('Errors: 11', ''), ansi('Success %: 45.0', ''), ansi(header), prefix('\n'.slice(1)), ...table, ansi('Workflow Success %: 45.0', '\x1b[1m\x1b[36;1m'), ansi('Workflow finished with failures', '\x1b[1m\x1b[31;1m')];
      const { summary } = parse(lines);
      expect({ header, failures: summary!.failures, outcome: summary!.outcome, pct: summary!.successPct }).toEqual({ header, failures: [{ from: 'Trino', entity: 'db.s.t1', message: 'Denied' }], outcome: 'failures', pct: 45 });
    }
  });

  it('says a run that exited 0 with `Workflow finished with failures` is a partial success', () => {
    const { summary } = parse([...referenceSummary().slice(0, 12).map((m) => ansi(m, '')), ansi('Workflow Success %: 85.17'), ansi('Workflow finished in time: 2.5s'), ansi('Workflow finished with failures', '\x1b[1m\x1b[31;1m')]);
    expect(summaryWarnings(summary)[0]).toBe('Workflow finished with failures (partial success: workflow 85.17%, above the success threshold)');
  });

  it('reads the captured init errors: version mismatch, refused JWT, failed test connection', () => {
    const mismatch = parse(captured('1.7.7.4-mismatch.log'));
    expect(failureMessage({ exitCode: 1, what: 'metadata ingest' }, mismatch.tail, mismatch.summary).split('\n')).toEqual([
      '`metadata ingest` exited with code 1',
      "Server version is 1.6.2 vs. Client version 1.7.7.4. Major and minor versions should match. Install openmetadata-ingestion~=1.6.0 (or the openmetadata/ingestion image of the server's version).",
    ]);
    const refused = parse(captured('1.7.7.4-unauthorized.log'));
    expect(refused.tail.initError).toBe('Error initializing metadata: Not Authorized! Token verification failed');
    const closed = parse(captured('1.7.7.4-closed-port.log'));
    const msg = failureMessage({ exitCode: 1, what: 'metadata ingest' }, closed.tail, closed.summary).split('\n');
    expect(msg[1]).toBe('Error initializing metadata: Failed to run the test connection step: CheckAccess');
    expect(msg[2]).toMatch(/^CheckAccess-/);
  });

  it('reads the older upper-case names and a `loading` error whose message goes on below it', () => {
    const old = new OutputTail();
    old.push('[2024-10-15 15:28:50] ERROR    {metadata.Utils:logger:181} - Error loading INGEST configuration: bad');
    expect(old.initError).toBe('Error loading INGEST configuration: bad');
    const t = new OutputTail();
    for (const l of ['[2026-12-03 14:33:55] ERROR    {metadata.Utils:logger:201} - \x1b[31;1mError loading profiler configuration: We encountered an error parsing the configuration of your workflow.', 'You might need to review your config based on the original cause of this failure:', "\t - Missing parameter in ('source', 'sourceConfig')\x1b[0m", '[2026-12-03 14:33:55] INFO     {metadata.Utils:logger:201} - ', "Make sure you are following the following format e.g. 'bigquery_profiler':"]) t.push(l);
    expect(t.initError).toBe("Error loading profiler configuration: We encountered an error parsing the configuration of your workflow.\nYou might need to review your config based on the original cause of this failure:\n- Missing parameter in ('source', 'sourceConfig')");
  });
});

describe('failure messages', () => {
  it('keeps a summary printed before a crash and shows it with the last error line (1.11.4 usage quirk)', () => {
    const lines = [
      ...referenceSummary().map(prefix),
      'Traceback (most recent call last):',
      '  File "/usr/local/bin/metadata", line 8, in <module>',
      '    sys.exit(metadata())',
      '  File "/opt/venv/lib/python3.11/site-packages/metadata/ingestion/source/database/trino/usage.py", line 57, in close',
      '    self.stage_file.write(record.encode())',
      "AttributeError: 'NoneType' object has no attribute 'encode'",
    ];
    const { summary, tail } = parse(lines);
    const msg = failureMessage({ exitCode: 1, what: 'metadata usage' }, tail, summary);
    expect(msg.split('\n')).toEqual([
      '`metadata usage` exited with code 1',
      'summary: Mysql: 91 processed, 0 updated, 0 warnings, 0 errors, 100%; OpenMetadata: 64 processed, 0 updated, 0 warnings, 27 errors, 70.33%; workflow 100% in 13.0h 24.0m 2.22s',
      'Traceback (most recent call last, last frame):',
      '  File "/opt/venv/lib/python3.11/site-packages/metadata/ingestion/source/database/trino/usage.py", line 57, in close',
      '    self.stage_file.write(record.encode())',
      "AttributeError: 'NoneType' object has no attribute 'encode'",
    ]);
  });

  it('names the version mismatch and what to install', () => {
    const lines = [
      prefix('OpenMetadata client running with Server version [1.10.4] and Client version [1.9.2]'),
      'Traceback (most recent call last):',
      '  File "server_mixin.py", line 102, in validate_versions',
      '    raise VersionMismatchException(',
      'metadata.ingestion.ometa.mixins.server_mixin.VersionMismatchException: Server version is 1.10.4 vs. Client version 1.9.2. Major and minor versions should match.',
    ];
    const { summary, tail } = parse(lines);
    const msg = failureMessage({ exitCode: 1, what: 'metadata ingest' }, tail, summary);
    expect(msg.split('\n')[1]).toBe('Server version is 1.10.4 vs. Client version 1.9.2. Major and minor versions should match. Install openmetadata-ingestion~=1.10.0 (or the openmetadata/ingestion image of the server\'s version).');
    // The older wording is recognised too.
    const old = new OutputTail();
    old.push('VersionMismatchException: Server version is 0.13.1 vs. Client version 0.13.0. Both should match.');
    expect(old.versionMismatch).toBe('Server version is 0.13.1 vs. Client version 0.13.0. Both should match.');
  });

  it('falls back to the last ERROR lines, then to the last lines, and stays short', () => {
    const t = new OutputTail();
    for (let i = 0; i < 1000; i++) t.push(prefix(`line ${i} ${'x'.repeat(100)}`));
    t.push('[2024-10-15 15:28:50] ERROR    {metadata.Ingestion:source:1} - could not connect to trino');
    expect(failureMessage({ exitCode: 2, what: 'metadata ingest' }, t, undefined)).toBe('`metadata ingest` exited with code 2\ncould not connect to trino');
    const quiet = new OutputTail();
    for (let i = 0; i < 50; i++) quiet.push(`line ${i}`);
    expect(failureMessage({ signal: 'SIGKILL', what: 'metadata ingest' }, quiet, undefined).split('\n')).toEqual(['`metadata ingest` was killed by SIGKILL', ...Array.from({ length: 10 }, (_, i) => `line ${40 + i}`)]);
    const huge = new OutputTail();
    huge.push(`[2024-10-15 15:28:50] ERROR    {m:1} - ${'y'.repeat(10_000)}`);
    expect(failureMessage({ exitCode: 1, what: 'x' }, huge, undefined).length).toBeLessThanOrEqual(2800);
  });

  it('masks each line before clipping it: a secret cut at the clip leaves no half behind', () => {
    const secret = 'clipped-secret-value-42';
    const mask = (t: string) => t.replaceAll(secret, '***');
    const t = new OutputTail(mask);
    t.push(`[2024-10-15 15:28:50] ERROR    {m:1} - ${'e'.repeat(490)}${secret}`);
    const msg = failureMessage({ exitCode: 1, what: 'metadata ingest' }, t, undefined, mask);
    expect(msg).toContain(`${'e'.repeat(490)}***`);
    expect(msg).not.toMatch(/clipped|cli…/);
  });

  it('turns errors in a successful run\'s summary into warnings', () => {
    const { summary } = parse(referenceSummary().map(prefix));
    expect(summaryWarnings(summary)).toEqual(['OpenMetadata: 27 errors (success 70.33%)']);
    expect(summaryWarnings(undefined)).toEqual([]);
  });
});

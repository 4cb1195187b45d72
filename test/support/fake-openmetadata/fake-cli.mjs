// A test double of OpenMetadata's `metadata` ingestion CLI (openmetadata-ingestion 1.10).
// It takes the same argv (`metadata ingest|usage|profile|test|classify -c FILE`,
// `metadata --version`), loads the config as the real CLI does (`os.path.expandvars` on the
// text, then YAML), checks the config's shape (the real CLI's own parser is exercised by
// test/openmetadata/pipelines.test.ts), asks the server for its version and checks the JWT
// like the real client, and prints what openmetadata-ingestion 1.7/2.0 print for the same
// case (test/fixtures/openmetadata-cli/ holds captured real outputs): init errors through
// workflow_init_error_handler.py (`Error loading <pipelineType> configuration: ...`,
// `\nError initializing <pipelineType>: ...`, ANSI-coloured, by metadata.Utils), every summary
// line through log_ansi_encoded_string, the failures table under `List of failures:` or
// `Showing the first 10 failures:` (client 2.x, more than 10 rows), `Workflow finished with
// failures` whenever a step had failures (also when the run exits 0: mode `partial`).
// Exit codes as the real CLI's.
//
// Controlled by environment variables:
//   FAKE_OM_VERSION        client version (default 1.10.4)
//   FAKE_OM_MODE           ok (default) | fail | partial | hang | ignore-sigterm | flood |
//                          crash-after-summary | version-mismatch | legacy
//   FAKE_OM_ONLY           comma list of serviceNames the mode applies to (default: all)
//   FAKE_OM_FAIL_SERVICE   comma list of serviceNames that fail (mode `fail` for them only)
//   FAKE_OM_FAIL_SOURCE    comma list of source types (`trino`, `dbt`, ...) that fail
//   FAKE_OM_RECORDS        records per step (default 12)
//   FAKE_OM_FLOOD_LINES    lines printed in flood mode (default 100000)
//   FAKE_OM_DELAY_MS       sleep before the summary (default 0)
//   FAKE_OM_SPAWN_CHILD=1  start a child process in the same group (tree-kill tests)
//   FAKE_OM_LEAVE_CHILD=1  leave a child behind that holds stdout/stderr open, then exit
//   FAKE_OM_PRINT_CONFIG=1 log the loaded config, token and passwords included, as CLIs
//                          before `redacted_config` did at DEBUG (the runner must mask it)
//   FAKE_OM_PIDFILE        append `pid` lines (own and child's) to this file
//   FAKE_OM_RECORD         append one JSON line per invocation to this file
//   FAKE_OM_OFFLINE=1      do not contact the server
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { spawn } from 'node:child_process';

const E = process.env;
const CLIENT_VERSION = E.FAKE_OM_VERSION || '1.10.4';
const COMMANDS = ['ingest', 'ingest-dbt', 'usage', 'profile', 'test', 'lineage', 'app', 'webhook', 'classify'];
const EXPECTED = {
  DatabaseMetadata: 'ingest', DashboardMetadata: 'ingest', PipelineMetadata: 'ingest', StorageMetadata: 'ingest',
  DatabaseLineage: 'ingest', DBT: 'ingest', DatabaseUsage: 'usage', Profiler: 'profile', TestSuite: 'test', AutoClassification: 'classify',
};
// The PipelineType name each sub-command passes to the init error handler (metadata/cli/*.py).
const WORKFLOW_TYPE = { ingest: 'metadata', usage: 'usage', profile: 'profiler', test: 'TestSuite', classify: 'autoClassification', lineage: 'lineage' };
const ANSI = { red: '\x1b[31;1m', bold: '\x1b[1m', cyan: '\x1b[36;1m', end: '\x1b[0m' };
const CONNECTOR_STEP = { Trino: 'Trino', Iceberg: 'Iceberg', Dagster: 'Dagster', Airbyte: 'Airbyte', Superset: 'Superset', Redash: 'Redash', S3: 'S3' };

const pad = (n) => String(n).padStart(2, '0');
function ts() {
  const d = new Date();
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
/** `[2024-10-15 15:28:50] INFO     {metadata.Utils:logger:181} - message` on stderr, as Python logging prints it. */
function log(level, logger, message) {
  process.stderr.write(`[${ts()}] ${level.padEnd(8)} {${logger}} - ${message}\n`);
}
/** log_ansi_encoded_string (metadata/utils/logger.py): codes before the message, ESC[0m after. */
const ansiLog = (m, codes = '', level = 'INFO') => log(level, 'metadata.Utils:logger:201', `${codes}${m}${ANSI.end}`);
const info = (m) => ansiLog(m);
/** WorkflowInitErrorHandler.print_init_error: the error, then where to read more. */
function initError(kind, wt, message) {
  ansiLog(kind === 'loading' ? `Error loading ${wt} configuration: ${message}` : `\nError initializing ${wt}: ${message}`, ANSI.red, 'ERROR');
  ansiLog(`\nFor more information, please visit: https://docs.open-metadata.org/connectors/ingestion/workflows/${wt === 'profiler' ? 'profiler' : 'metadata'}\nOr join us in Slack: https://slack.open-metadata.org/`);
}
const pyFloat = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function exit(code) {
  record({ event: 'exit', code });
  process.exitCode = code;
  // Let stderr drain before leaving.
  process.stderr.write('', () => process.exit(code));
}

function record(data) {
  if (E.FAKE_OM_RECORD) appendFileSync(E.FAKE_OM_RECORD, JSON.stringify({ pid: process.pid, t: Date.now(), ...data }) + '\n');
}

/** Python's os.path.expandvars: `$name` and `${name}` of set variables; others stay as written. */
export function expandvars(text) {
  return text.replace(/\$(\w+|\{[^}]*\})/g, (m, g) => {
    const name = g.startsWith('{') ? g.slice(1, -1) : g;
    return Object.prototype.hasOwnProperty.call(process.env, name) ? process.env[name] : m;
  });
}

function traceback(frames, exception) {
  const lines = ['Traceback (most recent call last):'];
  for (const [file, line, fn, code] of frames) lines.push(`  File "${file}", line ${line}, in ${fn}`, `    ${code}`);
  lines.push(exception);
  process.stderr.write(lines.join('\n') + '\n');
}
const CLI_FRAMES = [
  ['/usr/local/bin/metadata', 8, '<module>', 'sys.exit(metadata())'],
  ['/opt/venv/lib/python3.11/site-packages/metadata/cmd.py', 164, 'metadata', 'RUN_PATH_METHODS[metadata_workflow](path)'],
];

/** tabulate(..., headers='keys', tablefmt='grid'). */
function grid(headers, rows) {
  const cells = [headers, ...rows].map((r) => r.map((c) => String(c).split('\n')));
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => Math.max(...r[i].map((l) => l.length)))));
  const rule = (ch) => '+' + widths.map((w) => ch.repeat(w + 2)).join('+') + '+';
  const out = [rule('-')];
  cells.forEach((r, ri) => {
    const h = Math.max(...r.map((c) => c.length));
    for (let k = 0; k < h; k++) out.push('| ' + r.map((c, i) => (c[k] ?? '').padEnd(widths[i])).join(' | ') + ' |');
    out.push(rule(ri === 0 ? '=' : '-'));
  });
  return out.join('\n');
}

const list = (v) => (v || '').split(',').map((s) => s.trim()).filter(Boolean);

function modeFor(serviceName, sourceType) {
  if (list(E.FAKE_OM_FAIL_SERVICE).includes(serviceName) || list(E.FAKE_OM_FAIL_SOURCE).includes(sourceType)) return 'fail';
  const only = list(E.FAKE_OM_ONLY);
  if (only.length > 0 && !only.includes(serviceName)) return 'ok';
  return E.FAKE_OM_MODE || 'ok';
}

async function getJson(url, jwt) {
  const headers = { accept: 'application/json' };
  if (jwt !== undefined) headers.authorization = `Bearer ${jwt}`;
  const res = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, body: await res.json().catch(() => ({})) };
}

function hang() {
  setInterval(() => {}, 1 << 30);
  return new Promise(() => {});
}

/** The parameters parse_workflow_config_gracefully reports missing, in its words. */
function missingParameters(config) {
  const out = [];
  const isObj = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObj(config)) return ["'source'", "'workflowConfig'"];
  if (!isObj(config.source)) out.push("'source'");
  else {
    for (const k of ['type', 'serviceName', 'sourceConfig']) if (config.source[k] === undefined) out.push(`in ('source', '${k}')`);
  }
  if (!isObj(config.workflowConfig) || !isObj(config.workflowConfig.openMetadataServerConfig)) out.push("'workflowConfig'");
  return out;
}

export async function main(argv) {
  if (argv.includes('--version') || argv[0] === '-v') {
    process.stdout.write(`metadata ${CLIENT_VERSION} from /opt/venv/lib/python3.11/site-packages/metadata (python 3.11)\n`);
    return exit(0);
  }
  const args = argv.filter((a, i) => !(a === '--debug' || a === '-l' || a === '--log-level' || argv[i - 1] === '-l' || argv[i - 1] === '--log-level'));
  const usage = `usage: metadata [-h] [-v] [--debug] [-l {INFO,DEBUG,WARNING,ERROR,CRITICAL}] {${COMMANDS.join(',')}} ...`;
  const sub = args[0];
  if (!sub || !COMMANDS.includes(sub)) {
    process.stderr.write(`${usage}\nmetadata: error: argument command: invalid choice: '${sub ?? ''}' (choose from ${COMMANDS.map((c) => `'${c}'`).join(', ')})\n`);
    return exit(2);
  }
  const ci = args.findIndex((a) => a === '-c' || a === '--config');
  const configPath = ci >= 0 ? args[ci + 1] : undefined;
  if (!configPath) {
    process.stderr.write(`usage: metadata ${sub} [-h] -c CONFIG\nmetadata ${sub}: error: the following arguments are required: -c/--config\n`);
    return exit(2);
  }
  const wt = WORKFLOW_TYPE[sub] ?? 'INGEST';
  record({ event: 'start', argv, sub, config: configPath, jwt_env: Boolean(E.RUNNER_OPENMETADATA_JWT) });
  if (E.FAKE_OM_PIDFILE) appendFileSync(E.FAKE_OM_PIDFILE, `${process.pid}\n`);

  if (!existsSync(configPath)) {
    initError('loading', wt, `Cannot open config file ${configPath}`);
    return exit(1);
  }
  const { default: YAML } = await import('yaml');
  let config;
  const text = readFileSync(configPath, 'utf8');
  // For tests: the asset the runner rendered this file for (its header comment says).
  const forAsset = /Rendered by the runner for (\S+)/.exec(text)?.[1] ?? null;
  try {
    config = YAML.parse(expandvars(text));
  } catch (err) {
    initError('loading', wt, `YAML Configuration file [${configPath}] is not a valid YAML`);
    return exit(1);
  }
  const missing = missingParameters(config);
  if (missing.length > 0) {
    initError('loading', wt, `We encountered an error parsing the configuration of your workflow.\nYou might need to review your config based on the original cause of this failure:\n${missing.map((m) => `\t - Missing parameter ${m}`).join('\n')}`);
    return exit(1);
  }
  const source = config.source;
  const pipelineType = source?.sourceConfig?.config?.type;
  const expected = EXPECTED[pipelineType];
  if (expected && expected !== sub) {
    initError('initializing', wt, `a ${pipelineType} workflow runs with \`metadata ${expected}\`, not \`metadata ${sub}\``);
    return exit(1);
  }
  if (pipelineType === 'Profiler' && !config.processor) {
    initError('initializing', wt, 'the profiler workflow needs a processor (orm-profiler)');
    return exit(1);
  }
  const mode = modeFor(source.serviceName, source.type);
  if (E.FAKE_OM_PRINT_CONFIG === '1') log('DEBUG', 'metadata.Ingestion:ingest:43', `Using config: ${JSON.stringify(config)}`);
  record({ event: 'workflow', asset: forAsset, source: source.type, service: source.serviceName, pipeline: pipelineType ?? null, mode });
  const server = config.workflowConfig.openMetadataServerConfig;
  const jwt = server.securityConfig?.jwtToken;

  if (E.FAKE_OM_OFFLINE !== '1') {
    let serverVersion;
    try {
      const r = await getJson(`${server.hostPort}/v1/system/version`);
      serverVersion = /(\d+\.\d+\.\d+)/.exec(String(r.body.version))?.[1];
    } catch (err) {
      traceback(CLI_FRAMES, `requests.exceptions.ConnectionError: HTTPConnectionPool: Max retries exceeded with url: ${server.hostPort}/v1/system/version (Caused by NewConnectionError: Failed to establish a new connection: [Errno 111] Connection refused)`);
      return exit(1);
    }
    const client = mode === 'version-mismatch' ? '1.9.2' : CLIENT_VERSION;
    log('INFO', 'metadata.OMetaAPI:server_mixin:78', `OpenMetadata client running with Server version [${serverVersion}] and Client version [${client}]`);
    if (!serverVersion || serverVersion.split('.').slice(0, 2).join('.') !== client.split('.').slice(0, 2).join('.')) {
      // Raised while the workflow is created, so printed by the init error handler.
      const mm = String(serverVersion).split('.').slice(0, 2).join('.');
      const more = client.startsWith('2.') ? ` Either install the matching client with \`pip install 'openmetadata-ingestion~=${mm}.0'\` or point \`hostPort\` at a ${client} server.` : '';
      log('WARNING', 'metadata.OMetaAPI:client_utils:46', `Wild error initialising the OMeta Client Server version is ${serverVersion} vs. Client version ${client}. Major and minor versions should match.${more}`);
      initError('initializing', wt, `Server version is ${serverVersion} vs. Client version ${client}. Major and minor versions should match.${more}`);
      return exit(1);
    }
    const auth = await getJson(`${server.hostPort}/v1/users/loggedInUser`, jwt).catch(() => ({ status: 0, body: {} }));
    if (auth.status === 401 || auth.status === 403) {
      initError('initializing', wt, 'Not Authorized! Token verification failed');
      return exit(1);
    }
    record({ event: 'authorized', status: auth.status });
  }

  const started = Date.now();
  const connType = source.serviceConnection?.config?.type;
  const sourceStep = CONNECTOR_STEP[connType] ?? (source.type === 'dbt' ? 'Dbt' : source.type.replace(/-.*$/, '').replace(/^./, (c) => c.toUpperCase()));
  const steps = [sourceStep];
  if (config.processor) steps.push(config.processor.type === 'orm-profiler' ? 'Profiler' : config.processor.type === 'query-parser' ? 'Query Parser' : config.processor.type);
  if (config.stage) steps.push('Table Usage');
  steps.push('OpenMetadata');
  log('INFO', 'metadata.Ingestion:workflow:112', `Starting ${wt} workflow for service ${source.serviceName} (${pipelineType ?? 'unknown'})`);

  if (mode === 'hang' || mode === 'ignore-sigterm') {
    if (mode === 'ignore-sigterm') process.on('SIGTERM', () => log('WARNING', 'metadata.Ingestion:workflow:120', 'received SIGTERM, ignoring it'));
    if (E.FAKE_OM_SPAWN_CHILD === '1') {
      const child = spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>{}); setInterval(()=>{}, 1e9)"], { stdio: 'ignore' });
      if (E.FAKE_OM_PIDFILE) appendFileSync(E.FAKE_OM_PIDFILE, `${child.pid}\n`);
    }
    log('INFO', 'metadata.Ingestion:workflow:125', 'Processing records...');
    return hang();
  }
  if (mode === 'flood') {
    const n = Number(E.FAKE_OM_FLOOD_LINES || 100000);
    const chunk = [];
    for (let i = 0; i < n; i++) {
      chunk.push(`[${ts()}] DEBUG    {metadata.Ingestion:source:210} - Processing record ${i} of ${n}`);
      if (chunk.length === 1000) {
        process.stderr.write(chunk.join('\n') + '\n');
        chunk.length = 0;
      }
    }
    if (chunk.length) process.stderr.write(chunk.join('\n') + '\n');
    process.stderr.write(`[${ts()}] DEBUG    {metadata.Ingestion:source:211} - ${'x'.repeat(200_000)}\n`);
  }
  if (E.FAKE_OM_LEAVE_CHILD === '1') {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1e9)'], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (E.FAKE_OM_PIDFILE) appendFileSync(E.FAKE_OM_PIDFILE, `${child.pid}\n`);
    child.unref();
  }
  for (let i = 1; i <= 3; i++) log('INFO', 'metadata.Ingestion:topology_runner:189', `Processed entity ${source.serviceName}.entity_${i}`);
  if (Number(E.FAKE_OM_DELAY_MS || 0) > 0) await sleep(Number(E.FAKE_OM_DELAY_MS));

  const records = Number(E.FAKE_OM_RECORDS || 12);
  if (mode === 'legacy') {
    info(`Source: Processed ${records} records, filtered 0 records, found 0 errors`);
    info(`Sink: Processed ${records} records, found 0 errors`);
    info(`Workflow finished in time ${((Date.now() - started) / 1000).toFixed(2)}s `);
    info('Workflow finished successfully');
    return exit(0);
  }
  let failures = [];
  let sourceProcessed = records;
  if (mode === 'fail') {
    sourceProcessed = 9;
    failures = [1, 2, 3].map((i) => ({
      name: `${source.serviceName}.ol_warehouse.table_${i}`,
      error: `Unexpected exception to yield table [table_${i}]: (trino.exceptions.TrinoUserError) Access Denied: Cannot select from table_${i}`,
      trace: `Traceback (most recent call last):\n  File "topology_runner.py", line 199, in _process_stage\n    yield from stage_fn(entity)\ntrino.exceptions.TrinoUserError: Access Denied`,
    }));
  } else if (mode === 'partial') {
    sourceProcessed = 98;
    failures = [{ name: `${source.serviceName}.ol_warehouse.odd_table`, error: 'Unexpected exception to yield table [odd_table]: column type not understood', trace: 'Traceback (most recent call last):\n  File "x.py", line 1, in f\nValueError: column type' }];
  }
  const errors = failures.length;
  const stepStats = steps.map((name, i) => {
    const processed = i === 0 ? sourceProcessed : sourceProcessed;
    const err = i === 0 ? errors : 0;
    const total = Math.max(processed, 1);
    return { name, processed, updated: 0, warnings: 0, errors: err, success: Math.round((total * 10000) / (total + err)) / 100 };
  });
  for (const s of stepStats) {
    ansiLog(`Workflow ${s.name} Summary:`, ANSI.bold);
    info(`Processed records: ${s.processed}`);
    info(`Updated records: ${s.updated}`);
    info(`Warnings: ${s.warnings}`);
    info(`Errors: ${s.errors}`);
    info(`Success %: ${pyFloat(s.success)}`);
  }
  if (failures.length > 0) {
    const newer = CLIENT_VERSION.startsWith('2.');
    const limit = newer ? 10 : 100;
    ansiLog(failures.length > limit ? (newer ? 'Showing the first 10 failures:' : 'Showing only the first 100 failures:') : 'List of failures:', ANSI.bold);
    ansiLog('\n' + grid(['From', 'Entity Name', 'Message', 'Stack Trace'], failures.slice(0, limit).map((f) => [sourceStep, f.name, f.error, f.trace])));
  }
  const workflowSuccess = Math.round((stepStats.reduce((a, s) => a + s.success, 0) / stepStats.length) * 100) / 100;
  ansiLog(`Workflow Success %: ${pyFloat(workflowSuccess)}`, ANSI.bold + ANSI.cyan);
  ansiLog(`Workflow finished in time: ${pyFloat(Math.round((Date.now() - started) / 10) / 100)}s`, ANSI.bold + ANSI.cyan);
  // result_status(): any failure at all; raise_from_status(): a step below the threshold.
  if (failures.length > 0) ansiLog('Workflow finished with failures', ANSI.bold + ANSI.red);
  const failed = stepStats.some((s) => s.errors > 0 && s.success < 90);
  if (failed) {
    const s = stepStats[0];
    traceback([...CLI_FRAMES, ['/opt/venv/lib/python3.11/site-packages/metadata/workflow/base.py', 214, 'raise_from_status_internal', 'raise WorkflowExecutionError(']],
      `metadata.config.common.WorkflowExecutionError: ${s.name} reported errors: Processed records: ${s.processed}; Updated records: 0; Warnings: 0; Errors: ${s.errors}`);
    return exit(1);
  }
  if (mode === 'crash-after-summary') {
    traceback([...CLI_FRAMES, ['/opt/venv/lib/python3.11/site-packages/metadata/ingestion/source/database/trino/usage.py', 57, 'close', 'self.stage_file.write(record.encode())']],
      "AttributeError: 'NoneType' object has no attribute 'encode'");
    return exit(1);
  }
  return exit(0);
}

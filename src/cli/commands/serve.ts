/** `runner serve`: the scheduler daemon, with /healthz, /readyz and /metrics. */
import type { Command } from 'commander';
import { InputError } from '../../diagnostics/diagnostic.js';
import { choiceOption, durationArg, envOption, missingPipelinesDir, pipelinesOption, type EnvOptions, type PipelinesOptions } from '../options.js';

interface ServeCliOptions extends PipelinesOptions, EnvOptions {
  host: string;
  port: number;
  logFormat: 'human' | 'json';
  grace: number;
  token?: string;
}

function port(value: string): number {
  if (!/^[0-9]+$/.test(value) || Number(value) > 65535) throw new InputError(`--port must be a port number (0-65535), not \`${value}\``);
  return Number(value);
}

export function register(program: Command): void {
  const cmd = program.command('serve').description('run the daemon: tick running schedules and start their runs, run the watchers, serve the web UI, /healthz, /readyz and /metrics');
  pipelinesOption(cmd);
  envOption(cmd);
  cmd.option('--host <address>', 'the address to listen on (loopback by default; 0.0.0.0 for every interface)', '127.0.0.1');
  cmd.option('--port <n>', 'the HTTP port (0: any free port)', port, 3070);
  cmd.addOption(choiceOption('--log-format <format>', 'human lines or JSON lines (for log collectors)', ['human', 'json'], 'human'));
  cmd.option('--grace <duration>', 'on SIGTERM/SIGINT, how long running runs may take to finish before they are ended: Kubernetes Jobs are handed over to the next serve, local steps canceled (a bare number is seconds)', durationArg('--grace'), 30_000);
  cmd.option('--token <token>', 'the web UI access token, required off loopback (prefer RUNNER_UI_TOKEN: argv is visible to other users)');
  cmd.addHelpText(
    'after',
    `
Schedules tick only while running: see \`runner schedule list\` and \`runner schedule start NAME\`.
Changes under the pipelines directory are picked up while serve runs; an invalid change
is logged with its position and the previous definitions stay in force.
RUNNER_LOG_LEVEL=debug logs more.

Endpoints:
  /healthz   200 when the scheduler loop is alive and the store is writable, else 503
  /readyz    200 when definitions are loaded and the store is open (503 while shutting down)
  /metrics   Prometheus text format
  /          the web UI (assets, runs with live logs, schedules, launch); JSON API under /api/
             Off loopback it needs a token (RUNNER_UI_TOKEN or --token): open /?token=TOKEN once.

Examples:
  runner serve
  RUNNER_UI_TOKEN=$(openssl rand -hex 24) runner serve --env production --host 0.0.0.0 --log-format json
  runner serve --port 8080 --grace 5m`,
  );
  cmd.action(async (opts: ServeCliOptions) => {
    const missing = missingPipelinesDir(opts.pipelines);
    if (missing) throw new InputError(missing);
    // The web UI's bind check comes first: a non-loopback address without a token exits 2.
    const { uiMount } = await import('../../ui/index.js');
    const ui = uiMount({ host: opts.host, token: opts.token ?? process.env.RUNNER_UI_TOKEN, env: opts.env });
    const { serve } = await import('../../serve/daemon.js');
    const code = await serve({ pipelines: opts.pipelines, env: opts.env, host: opts.host, port: opts.port, logFormat: opts.logFormat, graceMs: opts.grace, mounts: [ui], ui: true });
    process.exitCode = code;
    // Whatever a library left open (keep-alive sockets, Vault token renewal) must not hold the exit.
    setTimeout(() => process.exit(code), 2000).unref();
  });
}

/** `runner tools install|list`: the virtual environments of tools the runner provides (the `metadata` CLI). */
import type { Command } from 'commander';
import { envOption, jsonOption, pipelinesOption } from '../options.js';
import type { ToolsInstallOptions, ToolsListOptions } from '../tools-run.js';

/** Adds `runner tools install` and `runner tools list` to the program. */
export function register(program: Command): void {
  const tools = program.command('tools').description('install and list the tools the runner provides (the OpenMetadata `metadata` CLI) under RUNNER_HOME/tools/');

  const install = tools
    .command('install')
    .description('create (or reuse) the virtual environment of a tool and print the path of its executable')
    .argument('<tool>', 'the tool: openmetadata');
  install.option('--version <spec>', 'a release (1.7.7.4), a wildcard (1.7.*: the newest matching) or `server` (needs --env); default: the environment\'s openmetadata.install.version');
  install.option('--plugins <list>', 'extra plugins (pip extras), comma-separated, e.g. dbt,trino');
  pipelinesOption(install);
  envOption(install);
  jsonOption(install, 'print {"name", "package", "version", "plugins", "metadata", "dir", "installer", "installed_at", "installed", "dropped"}');
  install.addHelpText(
    'after',
    `
With --env (or without --version) the pipeline files are read: the version is the
environment's openmetadata.install.version, and the plugins are those of every
openmetadata asset's connector plus install.plugins. Progress goes to stderr; stdout
gets the path of the \`metadata\` executable (or JSON with --json). A venv that is
already there is reused without calling pip. Downloads are cached in
RUNNER_TOOLS_CACHE (default RUNNER_HOME/tools/cache).

Examples:
  runner tools install openmetadata --version 1.7.7.4 --plugins dbt,trino
  runner tools install openmetadata --env production      # for an image build
  RUNNER_HOME=/opt/runner runner tools install openmetadata --version '1.7.*'`,
  );
  install.action(async (tool: string, opts: ToolsInstallOptions) => {
    const { toolsInstall } = await import('../tools-run.js');
    process.exitCode = await toolsInstall(tool, opts);
  });

  const list = tools.command('list').description('list the installed tools: version, plugins and the path of their executable');
  pipelinesOption(list);
  jsonOption(list, 'print {"tools": [{"name", "package", "version", "plugins", "metadata", "dir", "installer", "installed_at"}]}');
  list.addHelpText(
    'after',
    `
Examples:
  runner tools list
  runner tools list --json | jq -r '.tools[] | select(.name == "openmetadata") | .metadata'`,
  );
  list.action(async (opts: ToolsListOptions) => {
    const { toolsList } = await import('../tools-run.js');
    toolsList(opts);
  });
}

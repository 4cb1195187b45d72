/**
 * `runner render KEY`: the exact configuration an asset's step would run, with `***` where
 * a secret goes (no secret is resolved, so no Vault is needed, and there is no option to
 * show them), and the command line as a comment above it.
 */
import type { Command } from 'commander';
import { envOption, loadWithEnv, pipelinesOption, type EnvOptions, type PipelinesOptions } from '../options.js';

type RenderOptions = PipelinesOptions & EnvOptions;

export function register(program: Command): void {
  const cmd = program
    .command('render')
    .description('print what an asset would run: its config file(s) with secrets as ***, and the command line')
    .argument('<key>', 'the asset key (`openmetadata/trino/metadata`, or the legacy `openmetadata__trino__metadata`)');
  pipelinesOption(cmd);
  envOption(cmd);
  cmd.addHelpText(
    'after',
    `
Secrets are never resolved: they show as ***. In an environment with \`kubernetes:\`, the
output is the Secret and the Job manifest one attempt of the step creates. The output is YAML, so it can be diffed or
checked with another tool (e.g. OpenMetadata's schema validator).

Examples:
  runner render openmetadata/trino/lineage
  runner render openmetadata__dbt__metadata --env production
  runner render openmetadata/trino/profiling --env k8s      # the Job manifest
  runner render openmetadata/dagster/metadata -p pipelines > /tmp/dagster.yaml`,
  );
  cmd.action(async (key: string, opts: RenderOptions) => {
    const { InputError } = await import('../../diagnostics/diagnostic.js');
    const { defs, env } = await loadWithEnv(opts);
    const wanted = key.replaceAll('__', '/');
    const asset = defs.assets.get(wanted);
    if (!asset) {
      const { closest } = await import('../../util/suggest.js');
      const near = closest(wanted, defs.assets.keys());
      throw new InputError(`unknown asset \`${key}\`${near.length > 0 ? `; closest: ${near.join(', ')}` : ''} (runner list shows every asset)`);
    }
    const { getHandler } = await import('../../handlers/registry.js');
    const handler = getHandler(asset.handler);
    if (!handler) throw new InputError({ pos: asset.pos, message: `asset \`${asset.key}\`: unknown handler \`${asset.handler}\`` });
    const { substituteDeep } = await import('../../definitions/interpolate.js');
    const sub = substituteDeep(asset.config, { env: process.env, vars: env.vars, secrets: 'mask' });
    if (sub.errors.length > 0) {
      throw new InputError(sub.errors.map((e) => ({ pos: asset.pos, message: `asset \`${asset.key}\`: config.${e.path.join('.')}: ${e.message}` })));
    }
    if (env.kubernetes) {
      // This environment runs steps as Kubernetes Jobs: show the objects a step creates.
      const { renderJobManifests } = await import('../../launchers/kubernetes/render.js');
      let text: string;
      try {
        text = renderJobManifests(handler, asset, sub.value, env, defs.projectDir);
      } catch (err) {
        throw new InputError({ pos: asset.pos, message: `asset \`${asset.key}\`: ${err instanceof Error ? err.message : String(err)}` });
      }
      process.stdout.write(`# ${asset.key} (environment ${env.name}, handler ${asset.handler}, as a Kubernetes Job)\n${text}\n`);
      return;
    }
    let rendered;
    try {
      rendered = handler.render({ asset, config: sub.value, env, projectDir: defs.projectDir });
    } catch (err) {
      throw new InputError({ pos: asset.pos, message: `asset \`${asset.key}\`: ${err instanceof Error ? err.message : String(err)}` });
    }
    const out: string[] = [`# ${asset.key} (environment ${env.name}, handler ${asset.handler})`, `# command: ${rendered.command.map(shellQuote).join(' ')}`];
    const envVars = Object.entries(rendered.env ?? {});
    if (envVars.length > 0) out.push(`# environment: ${envVars.map(([k, v]) => `${k}=${v}`).join(' ')}`);
    const files = rendered.files ?? [];
    files.forEach((f, i) => {
      if (i > 0) out.push('---');
      out.push(`# file: ${f.name}`, f.content.replace(/\n$/, ''));
    });
    process.stdout.write(out.join('\n') + '\n');
  });
}

/** An argument as a POSIX shell would need it written (for display only). */
function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_@%+=:,./<>-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

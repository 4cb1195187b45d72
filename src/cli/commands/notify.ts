/** `runner notify test`: sends a sample failure alert through the configured channel. */
import type { Command } from 'commander';
import { InputError } from '../../diagnostics/diagnostic.js';
import { envOption, pipelinesOption, type EnvOptions, type PipelinesOptions } from '../options.js';

interface NotifyTestOptions extends PipelinesOptions, EnvOptions {
  notification?: string[];
}

export function register(program: Command): void {
  const notify = program.command('notify').description('run alerts: send a sample alert (notify test)');
  const test = notify
    .command('test')
    .description('send a sample failure alert through the configured notifications (printed when no webhook is configured)')
    .option('-n, --notification <name...>', 'only these notifications (default: all)');
  pipelinesOption(test);
  envOption(test);
  test.addHelpText(
    'after',
    `
The sample alert has the layout of a real one: header "<Env> Run Failure", job and run id,
one failed step with its error, and a button to the run page when the environment sets ui_url.
The webhook is resolved like in a run: its \${secret:..} from the environment variable, else Vault.

Exit status: 0 sent (or printed because no webhook is configured), 1 delivery failed, 2 bad input.

Examples:
  $ runner notify test
  $ runner notify test --env production
  $ SLACK_WEBHOOK_URL=https://hooks.slack.com/services/... runner notify test -n run_failure_slack`,
  );
  test.action(async (opts: NotifyTestOptions) => {
    const { loadWithEnv } = await import('../options.js');
    const { defs, env } = await loadWithEnv(opts);
    const names = opts.notification;
    if (names) {
      const { didYouMean } = await import('../../util/suggest.js');
      const known = [...defs.notifications.keys()];
      for (const n of names) {
        if (!defs.notifications.has(n)) throw new InputError(`notification \`${n}\` does not exist${didYouMean(n, known)}; defined: ${known.join(', ') || 'none'}`);
      }
    }
    const { sendTestAlert } = await import('../../notify/index.js');
    const outcome = await sendTestAlert(defs, env, { only: names });
    const line = `alert ${outcome.status}${outcome.detail ? `: ${outcome.detail}` : ''}\n`;
    (outcome.status === 'failed' ? process.stderr : process.stdout).write(line);
    process.exitCode = outcome.status === 'failed' ? 1 : 0;
  });
}

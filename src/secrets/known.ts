/**
 * The secret values a run can know before it resolves anything, so that its masker hides
 * them from the first line on, whether or not a step of the run asks for them: a program
 * may print its whole environment, or a secret another step was meant to use.
 *
 *   - every env-sourced secret whose variable is set in the process environment;
 *   - the Vault credentials in the environment: `VAULT_TOKEN`, `~/.vault-token` (token
 *     auth), the approle secret id (`VAULT_SECRET_ID` or the variable `secret_id_env` names);
 *   - each Slack webhook URL that needs no `${secret:..}` (`${env:..}` and `${var:..}` only),
 *     and its path and token parts (see {@link webhookForms}).
 *
 * Vault values and webhooks behind a secret join the masker when they are resolved
 * (resolver.ts, notify/notifier.ts), as do the tokens a Vault login hands out.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NotificationDef, SecretDef } from '../definitions/model.js';
import type { ResolvedEnvironment } from '../definitions/environment.js';
import { substitute } from '../definitions/interpolate.js';

/** What {@link knownSecretValues} reads. */
export interface KnownSecretsInput {
  defs: { secrets: Map<string, SecretDef>; notifications?: Map<string, NotificationDef> };
  env?: Pick<ResolvedEnvironment, 'vars' | 'vault'>;
  processEnv: Record<string, string | undefined>;
  /** Read `~/.vault-token` too (default true; the UI's response masker passes false to stay free of I/O). */
  readTokenFile?: boolean;
}

/** The values to mask in a run before any secret is resolved (unordered, may repeat). */
export function knownSecretValues(input: KnownSecretsInput): string[] {
  const { defs, env, processEnv } = input;
  const out: string[] = [];
  const put = (v: string | undefined): void => {
    if (v) out.push(v, v.trim());
  };
  for (const s of defs.secrets.values()) if (s.env) put(processEnv[s.env]);
  put(processEnv.VAULT_TOKEN);
  const auth = env?.vault?.auth;
  put(processEnv[(auth?.method === 'approle' && auth.secret_id_env) || 'VAULT_SECRET_ID']);
  if (input.readTokenFile !== false && env?.vault?.address && (!auth || auth.method === 'token') && !processEnv.VAULT_TOKEN) {
    try {
      put(readFileSync(path.join(processEnv.HOME || os.homedir(), '.vault-token'), 'utf8'));
    } catch {
      // No token file: nothing to mask.
    }
  }
  for (const n of defs.notifications?.values() ?? []) {
    const r = substitute(n.slack.webhook, { env: processEnv, vars: env?.vars, secrets: () => undefined });
    if (r.errors.length === 0 && r.value.trim()) out.push(...webhookForms(r.value.trim()));
  }
  return out;
}

/**
 * A webhook URL and the parts of it an error text or a proxy might echo on their own:
 * the URL without its scheme, its path and query, and its last path segment when it is
 * long enough to be a token (`/services/T000/B000/XXXXXXXXXXXXXXXX` → the X's). Short
 * paths and segments are left alone: masking `/api` would blank out ordinary text.
 */
export function webhookForms(url: string): string[] {
  const forms = [url];
  try {
    const u = new URL(url);
    forms.push(url.replace(/^[a-z]+:\/\//i, ''));
    if ((u.pathname + u.search).length >= 16) forms.push(u.pathname + u.search);
    const last = u.pathname.split('/').filter(Boolean).pop();
    if (last && last.length >= 16) forms.push(last);
  } catch {
    // Not a URL: the whole text is what there is to mask.
  }
  return forms;
}

/**
 * Asking the OpenMetadata server: its version (`GET <url>/v1/system/version`), with the
 * preflight timeout; errors as short reasons, never a secret.
 */

/** `1.10.4` from `metadata 1.10.4 from /path (python 3.11)`, `1.10.4.1`, `1.10.4-SNAPSHOT`. */
export function parseVersion(text: string): string | undefined {
  return /(\d+\.\d+\.\d+)/.exec(text)?.[1];
}

/** `1.10` of `1.10.4`. */
export function majorMinor(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/** How long one network call or `metadata --version` may take. */
export const PREFLIGHT_TIMEOUT_MS = 30_000;

/** The server's version from `GET <url>/v1/system/version`, or why not. */
export async function serverVersion(url: string, signal?: AbortSignal): Promise<{ version?: string; error?: string }> {
  try {
    const res = await fetch(`${url}/v1/system/version`, { signal: withTimeout(signal), headers: { accept: 'application/json' } });
    if (!res.ok) return { error: `GET ${url}/v1/system/version answered HTTP ${res.status}` };
    const body = (await res.json()) as { version?: unknown };
    const version = typeof body.version === 'string' ? parseVersion(body.version) : undefined;
    return version ? { version } : { error: `GET ${url}/v1/system/version answered without a version` };
  } catch (err) {
    return { error: `${url} did not answer: ${reason(err)}` };
  }
}

/** A signal that aborts with `signal` or after the preflight timeout. */
export function withTimeout(signal?: AbortSignal): AbortSignal {
  const t = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
  return signal ? AbortSignal.any([signal, t]) : t;
}

/** A short reason for a failed call. */
export function reason(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return `no answer within ${PREFLIGHT_TIMEOUT_MS / 1000}s`;
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(err);
}


/**
 * The last line of defence before the browser: every body the UI sends passes through a
 * masker that knows every secret serve can know without resolving anything
 * (secrets/known.ts: the secrets' environment variables set in serve's environment, the
 * Vault credentials there, webhook URLs written without a secret). Configs are rendered with `${secret:..}` as `***` and logs and events are
 * masked by the executor already; this catches a secret that reached a config another way
 * (an `${env:TRINO_PASSWORD}` written where `${secret:trino_password}` was meant).
 */
import type { Definitions } from '../definitions/model.js';
import { Masker } from '../secrets/masker.js';
import { knownSecretValues } from '../secrets/known.js';

/** Masks secret values known to this process in text sent to the browser. */
export class ResponseMasker {
  private key = '';
  private masker = new Masker();

  constructor(
    private readonly defs: () => Definitions,
    private readonly processEnv: Record<string, string | undefined>,
  ) {}

  /** `text` with every known secret value replaced by `***`. */
  mask(text: string): string {
    return this.current().mask(text);
  }

  /**
   * The masker for the current definitions and environment, resolved once: for a request
   * that masks many pieces (the merged log), instead of finding the known values per piece.
   */
  snapshot(): Masker {
    return this.current();
  }

  /** The masker for the current definitions and environment (rebuilt when either changed). */
  private current(): Masker {
    const values = knownSecretValues({ defs: this.defs(), processEnv: this.processEnv, readTokenFile: false });
    const key = values.join('\u0000');
    if (key !== this.key) {
      this.key = key;
      this.masker = new Masker(values);
    }
    return this.masker;
  }
}

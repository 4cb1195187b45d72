/** The app's calls to the JSON API: GETs, and POSTs carrying the page's CSRF token. */
import type { Diagnostic, ErrorDoc } from './types.js';

let csrfToken = '';

/** Sets the token POSTs send (read from the page's meta tag at start). */
export function setCsrfToken(token: string): void {
  csrfToken = token;
}

/** An error answer of the API, with its diagnostics (selection errors carry caret lines). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly diagnostics: Diagnostic[] = [],
  ) {
    super(message);
  }
}

async function parse<T>(res: Response): Promise<T> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text === '' ? {} : JSON.parse(text);
  } catch {
    throw new ApiError(res.status, `HTTP ${res.status}: ${text.slice(0, 200)}`);
  }
  if (!res.ok) {
    const e = body as ErrorDoc;
    throw new ApiError(res.status, e.error ?? `HTTP ${res.status}`, e.diagnostics ?? []);
  }
  return body as T;
}

/** GET a document. */
export async function getJson<T>(path: string, signal?: AbortSignal): Promise<T> {
  return parse<T>(await fetch(path, { headers: { accept: 'application/json' }, credentials: 'same-origin', signal }));
}

/** POST a JSON body. */
export async function postJson<T>(path: string, body: unknown = {}): Promise<T> {
  return parse<T>(
    await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrfToken },
      credentials: 'same-origin',
      body: JSON.stringify(body),
    }),
  );
}

/** `/api/…?a=1&b=2`, leaving out empty values. */
export function withQuery(path: string, params: Record<string, string | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** The URL path of an asset's page or API document (`/` kept: keys are paths). */
export function assetPath(prefix: string, key: string): string {
  return `${prefix}/${key.split('/').map(encodeURIComponent).join('/')}`;
}

/** Small pieces the pages share: status badges, times, errors with their caret lines. */
import type { ComponentChildren } from 'preact';
import { ApiError } from './api.js';
import { localTime, relativeTime, utcTime } from './format.js';
import type { Diagnostic } from './types.js';

/** A status word in its colour (the same words as the CLI and the store). */
export function Status({ status }: { status: string | null | undefined }) {
  const s = status ?? 'never';
  return <span class={`badge status-${s}`} data-status={s}>{s === 'never' ? 'never run' : s}</span>;
}

/** A time shown relative (`5 min ago`), the exact local time (with its zone) and UTC on hover. */
export function Time({ iso, now }: { iso: string | null | undefined; now?: number }) {
  if (!iso) return <span class="muted">-</span>;
  return (
    <time dateTime={iso} title={`${localTime(iso)}\n${utcTime(iso)}`}>
      {relativeTime(iso, now)}
    </time>
  );
}

/** A time in the browser's zone, named (`2024-05-01 14:00:00 CEST`), UTC on hover. */
export function LocalTime({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span class="muted">-</span>;
  return (
    <time dateTime={iso} title={utcTime(iso)}>
      {localTime(iso)}
    </time>
  );
}

/** Diagnostics as the CLI prints them: the message, then its detail lines (a caret under the expression). */
export function Diagnostics({ diagnostics }: { diagnostics: Diagnostic[] }) {
  return (
    <pre class="diagnostics">
      {diagnostics
        .map((d) => [d.pos ? `${d.pos.file}:${d.pos.line}:${d.pos.col}: ${d.message}` : d.message, ...(d.detail ?? [])].join('\n'))
        .join('\n')}
    </pre>
  );
}

/** An error box for a failed call. */
export function ErrorBox({ error }: { error: ApiError | Error | string | undefined }) {
  if (!error) return null;
  if (error instanceof ApiError && error.diagnostics.length > 0) {
    return (
      <div class="error-box" role="alert">
        <Diagnostics diagnostics={error.diagnostics} />
      </div>
    );
  }
  return (
    <div class="error-box" role="alert">
      {typeof error === 'string' ? error : error.message}
    </div>
  );
}

/** A titled panel. */
export function Panel({ title, children, class: cls }: { title?: ComponentChildren; children: ComponentChildren; class?: string }) {
  return (
    <section class={`panel ${cls ?? ''}`}>
      {title !== undefined && <h2>{title}</h2>}
      {children}
    </section>
  );
}

/** Shown while the first load runs. */
export function Loading() {
  return <p class="muted loading">Loading…</p>;
}

/** An asset key that may wrap after each `/`. */
export function KeyText({ k }: { k: string }) {
  const parts = k.split('/');
  return (
    <span class="key">
      {parts.map((p, i) => (
        <>
          {p}
          {i < parts.length - 1 && (
            <>
              /<wbr />
            </>
          )}
        </>
      ))}
    </span>
  );
}

/** One asset: description, dependencies, policy, the config with secrets as ***, what it runs, its recent runs. */
import { assetPath, withQuery } from '../api.js';
import { useJson } from '../hooks.js';
import { ErrorBox, Loading, Panel, Status, Time } from '../components.js';
import { Link } from '../router.js';
import { count, elapsed, formatDuration, recordsOf, shortId } from '../format.js';
import type { AssetDoc } from '../types.js';
import { RunTrigger } from './runs.js';

function quote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`;
}

export function AssetPage({ assetKey }: { assetKey: string }) {
  const doc = useJson<AssetDoc>(assetPath('/api/assets', assetKey), 5000);
  if (doc.error) return <ErrorBox error={doc.error} />;
  if (!doc.data) return <Loading />;
  const { asset, rendered, runs, last } = doc.data;
  const { records, errors } = recordsOf(last?.metadata);
  return (
    <div class="page asset-page">
      <header class="page-head">
        <div>
          <p class="crumbs">
            <Link href="/assets">Assets</Link> /
          </p>
          <h1 class="mono">{asset.key}</h1>
          {asset.description && <p class="lead">{asset.description}</p>}
        </div>
        <Link class="button" href={withQuery('/launch', { select: asset.key })}>
          Materialize…
        </Link>
      </header>
      <div class="grid-2">
        <Panel title="About">
          <dl class="facts">
            <dt>Last run</dt>
            <dd>
              <Status status={last?.status} /> {last && <Link href={`/runs/${last.run_id}`}><Time iso={last.ended_at} /></Link>}
              {last?.duration_ms != null && <span class="muted"> in {formatDuration(last.duration_ms)}</span>}
              {records !== null && <span class="muted"> · {count(records)} records</span>}
              {errors !== null && <span class={errors ? 'bad' : 'muted'}> · {count(errors)} errors</span>}
            </dd>
            <dt>Group</dt>
            <dd>{asset.group}</dd>
            <dt>Handler</dt>
            <dd>{asset.handler}</dd>
            {asset.kinds.length > 0 && (
              <>
                <dt>Kinds</dt>
                <dd>{asset.kinds.map((k) => <span class="chip">{k}</span>)}</dd>
              </>
            )}
            {Object.keys(asset.tags).length > 0 && (
              <>
                <dt>Tags</dt>
                <dd>
                  {Object.entries(asset.tags).map(([k, v]) => (
                    <span class="chip">
                      {k}={v}
                    </span>
                  ))}
                </dd>
              </>
            )}
            {asset.owners.length > 0 && (
              <>
                <dt>Owners</dt>
                <dd>{asset.owners.join(', ')}</dd>
              </>
            )}
            <dt>Policy</dt>
            <dd>
              {asset.retry && asset.retry.attempts > 1 ? `${asset.retry.attempts} attempts (${asset.retry.backoff} backoff from ${formatDuration(asset.retry.delayMs)})` : '1 attempt'}
              {asset.timeout_ms != null && `, timeout ${formatDuration(asset.timeout_ms)}`}
              {asset.pool && `, pool ${asset.pool}`}
            </dd>
            <dt>Defined in</dt>
            <dd class="mono small">{asset.file}</dd>
          </dl>
        </Panel>
        <Panel title="Dependencies">
          <h3>Upstream ({asset.deps.length})</h3>
          <ul class="deps" data-role="deps">
            {asset.deps.length === 0 && <li class="muted">none: a root</li>}
            {asset.deps.map((k) => (
              <li>
                <Link href={assetPath('/assets', k)}>{k}</Link>
              </li>
            ))}
          </ul>
          <h3>Downstream ({asset.dependents.length})</h3>
          <ul class="deps" data-role="dependents">
            {asset.dependents.length === 0 && <li class="muted">none</li>}
            {asset.dependents.map((k) => (
              <li>
                <Link href={assetPath('/assets', k)}>{k}</Link>
              </li>
            ))}
          </ul>
        </Panel>
      </div>
      <Panel title={<>Config <span class="muted small">(environment {doc.data.env ?? '?'}; secrets shown as ***)</span></>}>
        <pre class="code config">{doc.data.config_yaml}</pre>
      </Panel>
      <Panel title="What a step runs">
        {'error' in rendered ? (
          <ErrorBox error={rendered.error} />
        ) : (
          <>
            <pre class="code">$ {rendered.command.map(quote).join(' ')}</pre>
            {Object.entries(rendered.env ?? {}).length > 0 && (
              <pre class="code">
                {Object.entries(rendered.env ?? {})
                  .map(([k, v]) => `${k}=${v}`)
                  .join('\n')}
              </pre>
            )}
            {(rendered.files ?? []).map((f) => (
              <details>
                <summary class="mono">{f.name}</summary>
                <pre class="code">{f.content}</pre>
              </details>
            ))}
          </>
        )}
      </Panel>
      <Panel title={`Recent runs (${runs.length})`}>
        {runs.length === 0 ? (
          <p class="muted">No run has materialized this asset yet.</p>
        ) : (
          <div class="table-scroll">
          <table>
            <thead>
              <tr>
                <th>Run</th>
                <th>Step</th>
                <th>Run status</th>
                <th>Trigger</th>
                <th>Started</th>
                <th>Duration</th>
                <th>Attempts</th>
              </tr>
            </thead>
            <tbody>
              {runs.map((r) => {
                const s = r.steps.find((x) => x.key === asset.key);
                return (
                  <tr key={r.id}>
                    <td class="mono">
                      <Link href={`/runs/${r.id}`}>{shortId(r.id)}</Link>
                    </td>
                    <td>
                      <Status status={s?.status} />
                    </td>
                    <td>
                      <Status status={r.status} />
                    </td>
                    <td>
                      <RunTrigger run={r} />
                    </td>
                    <td>
                      <Time iso={s?.started_at ?? r.started_at} />
                    </td>
                    <td>{elapsed(s?.started_at, s?.ended_at)}</td>
                    <td>{s?.attempts ?? 0}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
          </div>
        )}
      </Panel>
    </div>
  );
}

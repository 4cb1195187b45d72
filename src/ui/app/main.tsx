/** The web UI app: the header, and the page for the current path. */
import { render } from 'preact';
import { setCsrfToken } from './api.js';
import { Link, useLocation } from './router.js';
import { AssetsPage } from './pages/assets.js';
import { AssetPage } from './pages/asset.js';
import { RunsPage } from './pages/runs.js';
import { RunPage } from './pages/run.js';
import { SchedulesPage } from './pages/schedules.js';
import { LaunchPage } from './pages/launch.js';
import './style.css';

const meta = (name: string): string => document.querySelector<HTMLMetaElement>(`meta[name="${name}"]`)?.content ?? '';

function decodeKey(rest: string): string {
  try {
    return rest.split('/').map(decodeURIComponent).join('/');
  } catch {
    return rest;
  }
}

function Page() {
  const loc = useLocation();
  const p = loc.path.replace(/\/+$/, '') || '/';
  if (p === '/' || p === '/assets') return <AssetsPage loc={loc} />;
  if (p.startsWith('/assets/')) return <AssetPage assetKey={decodeKey(p.slice('/assets/'.length))} />;
  if (p === '/runs') return <RunsPage loc={loc} />;
  if (p.startsWith('/runs/')) return <RunPage runId={decodeKey(p.slice('/runs/'.length))} loc={loc} />;
  if (p === '/schedules') return <SchedulesPage />;
  if (p === '/launch') return <LaunchPage loc={loc} />;
  return (
    <div class="page">
      <h1>Not found</h1>
      <p>
        No page at <code>{loc.path}</code>. <Link href="/">Go to the assets</Link>.
      </p>
    </div>
  );
}

function Nav() {
  const loc = useLocation();
  const section = loc.path === '/' ? '/assets' : '/' + (loc.path.split('/')[1] ?? '');
  const env = meta('runner-env');
  const item = (href: string, label: string) => (
    <Link href={href} class={section === href ? 'active' : ''} aria-current={section === href ? 'page' : undefined}>
      {label}
    </Link>
  );
  return (
    <header class="topbar">
      <Link href="/" class="brand">
        runner
      </Link>
      <nav>
        {item('/assets', 'Assets')}
        {item('/runs', 'Runs')}
        {item('/schedules', 'Schedules')}
        {item('/launch', 'Launch')}
      </nav>
      {env && (
        <span class="env" title="the environment runs started here use">
          env <strong>{env}</strong>
        </span>
      )}
    </header>
  );
}

function App() {
  return (
    <>
      <Nav />
      <main>
        <Page />
      </main>
    </>
  );
}

setCsrfToken(meta('csrf-token'));
render(<App />, document.getElementById('app')!);

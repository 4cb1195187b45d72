/**
 * A real Dagster for the tests, from the venvs scripts/peers/dagster.mjs installs: the code
 * servers of test/fixtures/dagster (`dagster api grpc`, one per code location, shared by
 * every instance of the site), and instances, each with its own DAGSTER_HOME, its
 * `dagster-webserver` on a loopback port and, where asked, its `dagster-daemon`. Start it
 * once per test file (tens of seconds) and stop it in afterAll: every process is in its own
 * group and ends with it. A start that fails throws with the processes' output.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEER_PINS, peersCacheDir } from '../peers.js';
import { type Proc, freePort, portOpen, startProc, stopProc, waitUntil } from './processes.js';
import { DagsterApi } from './api.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The code locations of test/fixtures/dagster. */
export const LOCATIONS = { ops_location: 'ops_location.py', assets_location: 'assets_location.py', doomed_location: 'doomed_location.py' } as const;
export type LocationName = keyof typeof LOCATIONS;

/** The marker scripts/peers/dagster.mjs writes after a complete install. */
const MARKER = '.runner-peer-complete';

/** The pinned Dagster versions: the team's and the newest 1.x. */
export const DAGSTER_VERSIONS = [PEER_PINS.dagster.team, PEER_PINS.dagster.newest] as const;

/** The bin folder of an installed Dagster version; throws (saying how to install) when it is missing. */
export function dagsterBin(version: string): string {
  const dir = path.join(peersCacheDir(), `dagster-${version}`);
  if (!fs.existsSync(path.join(dir, MARKER))) throw new Error(`Dagster ${version} is not installed in ${dir}: run \`npm run peers -- dagster\` (npm test does it first)`);
  return path.join(dir, 'bin');
}

/** One instance of a site. */
export interface InstanceOptions {
  name: string;
  /** `run_retries.enabled` in its dagster.yaml. */
  retries: boolean;
  /** Runs `dagster-daemon` (retries and run monitoring need it). */
  daemon: boolean;
  locations: LocationName[];
}

/** A running instance: its webserver's URL and GraphQL API. */
export interface RealInstance {
  name: string;
  home: string;
  url: string;
  api: DagsterApi;
}

/** A running Dagster of one version. */
export class DagsterSite {
  private constructor(
    readonly version: string,
    readonly dir: string,
    private readonly procs: Proc[],
    private readonly instances: Map<string, RealInstance>,
  ) {}

  /** Starts the code servers, then every instance's webserver and daemon, and waits until all are ready. */
  static async start(version: string, instances: InstanceOptions[], opts: { timeoutMs?: number } = {}): Promise<DagsterSite> {
    const bin = dagsterBin(version);
    const timeoutMs = opts.timeoutMs ?? 150_000;
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runner-dagster-${version}-`));
    const procs: Proc[] = [];
    const site = new DagsterSite(version, dir, procs, new Map());
    try {
      const base = { ...process.env, PYTHONUNBUFFERED: '1', DAGSTER_DISABLE_TELEMETRY: '1', RUNNER_TEST_DAGSTER_MARKERS: path.join(dir, 'markers') };
      const fixtures = path.join(root, 'test/fixtures/dagster');
      const wanted = [...new Set(instances.flatMap((i) => i.locations))];
      const ports = new Map<LocationName, number>();
      for (const loc of wanted) {
        const port = await freePort();
        ports.set(loc, port);
        // Each code server opens an instance of its own: two creating one SQLite storage at once race.
        const home = path.join(dir, `code-server-${loc}`);
        fs.mkdirSync(home, { recursive: true });
        fs.writeFileSync(path.join(home, 'dagster.yaml'), 'telemetry:\n  enabled: false\n');
        procs.push(startProc(`code server ${loc}`, path.join(bin, 'dagster'), ['api', 'grpc', '-h', '127.0.0.1', '-p', String(port), '-f', path.join(fixtures, LOCATIONS[loc]), '--location-name', loc], { env: { ...base, DAGSTER_HOME: home }, cwd: fixtures }));
      }
      // Meanwhile each instance's storage is created once (`dagster instance migrate`): its webserver and daemon
      // starting together would race to create it, as concurrent first launches do.
      const migrations = instances.map((inst) => {
        const idir = path.join(dir, inst.name);
        const home = path.join(idir, 'home');
        fs.mkdirSync(home, { recursive: true });
        fs.writeFileSync(path.join(home, 'dagster.yaml'), instanceYaml(inst));
        fs.writeFileSync(path.join(idir, 'workspace.yaml'), `load_from:\n${inst.locations.map((l) => `  - grpc_server: {host: 127.0.0.1, port: ${ports.get(l)}, location_name: ${l}}\n`).join('')}`);
        const p = startProc(`${inst.name} dagster instance migrate`, path.join(bin, 'dagster'), ['instance', 'migrate'], { env: { ...base, DAGSTER_HOME: home }, cwd: idir });
        procs.push(p);
        return p.exited.then((code) => {
          if (code !== 0) throw new Error(`Dagster ${version}: \`dagster instance migrate\` of ${inst.name} exited ${code}:\n${p.output().slice(-4000)}`);
        });
      });
      await Promise.all([...migrations, ...[...ports].map(([loc, port]) => waitUntil(`Dagster ${version}: code server ${loc}`, async () => ((await portOpen(port)) ? true : undefined), procs.filter((p) => p.name.startsWith('code server')), timeoutMs))]);

      const ready: Array<Promise<unknown>> = [];
      for (const inst of instances) {
        const idir = path.join(dir, inst.name);
        const home = path.join(idir, 'home');
        const env = { ...base, DAGSTER_HOME: home };
        const port = await freePort();
        const web = startProc(`${inst.name} dagster-webserver`, path.join(bin, 'dagster-webserver'), ['-w', 'workspace.yaml', '-h', '127.0.0.1', '-p', String(port)], { env, cwd: idir });
        procs.push(web);
        const mine = [web];
        if (inst.daemon) {
          const daemon = startProc(`${inst.name} dagster-daemon`, path.join(bin, 'dagster-daemon'), ['run', '-w', 'workspace.yaml'], { env, cwd: idir });
          procs.push(daemon);
          mine.push(daemon);
        }
        const url = `http://127.0.0.1:${port}`;
        const api = new DagsterApi(url);
        site.instances.set(inst.name, { name: inst.name, home, url, api });
        const watched = [...mine, ...procs.filter((p) => p.name.startsWith('code server'))];
        ready.push(
          waitUntil(`Dagster ${version}: ${inst.name} webserver with its code locations`, () => api.locationsLoaded(inst.locations), watched, timeoutMs).then(() =>
            // The daemon's event-log consumer starts from the newest event: runs launched before it is up are never retried.
            inst.daemon ? waitUntil(`Dagster ${version}: ${inst.name} daemon`, () => api.daemonsHealthy(['EVENT_LOG_CONSUMER', 'MONITORING']), watched, timeoutMs) : undefined,
          ),
        );
      }
      await Promise.all(ready);
      return site;
    } catch (err) {
      await site.stop();
      throw err;
    }
  }

  /** A started instance by name. */
  instance(name: string): RealInstance {
    const i = this.instances.get(name);
    if (!i) throw new Error(`no Dagster instance ${name}`);
    return i;
  }

  /** Ends every process (their groups: run workers too) and removes the site's folder. */
  async stop(): Promise<void> {
    await Promise.all(this.procs.map((p) => stopProc(p)));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function instanceYaml(inst: InstanceOptions): string {
  return [
    `run_retries:\n  enabled: ${inst.retries}`,
    // Runs launch at once (no queue), through the code server of their location.
    'run_coordinator:\n  module: dagster._core.run_coordinator\n  class: DefaultRunCoordinator',
    'run_monitoring:\n  enabled: true\n  poll_interval_seconds: 1',
    'telemetry:\n  enabled: false',
    '',
  ].join('\n');
}

// Installs the two pinned OpenMetadata CLIs (test/peers/versions.json `openmetadata.team`
// and `.newest`, with the plugins of `openmetadata_plugins`) through the runner's own
// installer, `runner tools install openmetadata --version V --plugins a,b`, with
// RUNNER_HOME=<cacheDir>/runner-home: a venv per version under its tools/, reused when there.
// uv (pinned `uv`, installed with pip into <cacheDir>/uv-<version>) is put first on PATH so
// the installer uses it; its download cache is <cacheDir>/uv (RUNNER_TOOLS_CACHE). What
// each line needs to install here is in test/peers/openmetadata-<major.minor>.constraints.txt,
// passed as UV_CONSTRAINT/PIP_CONSTRAINT. Writes <cacheDir>/openmetadata.json (version →
// metadata executable and python) for the tests (test/support/peers.ts).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureUv, run } from '../lib/python-peers.mjs';

/** The peer's name (`node scripts/peers.mjs openmetadata` installs only this one). */
export const name = 'openmetadata';

/** The file naming the installed CLIs, read by test/support/peers.ts. */
export const CLI_LIST = 'openmetadata.json';

/** Installs uv and both CLIs unless the cache already holds them. */
export async function install({ cacheDir, pins, log, root }) {
  const uvBin = await ensureUv({ cacheDir, version: pins.uv, log });
  const runner = path.join(root, 'bin', 'runner.js');
  if (!existsSync(path.join(root, 'dist', 'cli', 'main.js')) && !existsSync(path.join(root, 'dist'))) await run(process.execPath, [path.join(root, 'scripts', 'build.mjs')], {}, log);
  const versions = [...new Set([pins.openmetadata.team, pins.openmetadata.newest])];
  const listFile = path.join(cacheDir, CLI_LIST);
  const before = existsSync(listFile) ? JSON.parse(readFileSync(listFile, 'utf8')) : {};
  const list = {};
  for (const version of versions) {
    const mm = version.split('.').slice(0, 2).join('.');
    const constraints = path.join(root, 'test', 'peers', `openmetadata-${mm}.constraints.txt`);
    if (!existsSync(constraints)) throw new Error(`no ${path.relative(root, constraints)}: say there what openmetadata-ingestion ${mm} needs to install (or leave the file empty)`);
    log(`${version}: runner tools install openmetadata --version ${version} --plugins ${pins.openmetadata_plugins.join(',')} (a minute or two per version on a cold cache)`);
    const out = await run(process.execPath, [runner, 'tools', 'install', 'openmetadata', '--version', version, '--plugins', pins.openmetadata_plugins.join(','), '--json'], {
      RUNNER_HOME: path.join(cacheDir, 'runner-home'),
      RUNNER_TOOLS_CACHE: cacheDir,
      PATH: `${uvBin}${path.delimiter}${process.env.PATH ?? ''}`,
      UV_CONSTRAINT: constraints,
      PIP_CONSTRAINT: constraints,
    }, (line) => log(`${version}: ${line}`));
    const record = JSON.parse(out);
    const python = path.join(record.dir, 'bin', 'python');
    // A new install must start (an import error would otherwise show up as failing tests);
    // `metadata --version` takes seconds, so a venv checked before is not checked again.
    if (record.installed || before[version]?.dir !== record.dir) {
      const v = await run(record.metadata, ['--version'], { PYTHONWARNINGS: 'ignore' }, () => undefined);
      if (!v.includes(`metadata ${version} `)) throw new Error(`${record.metadata} --version printed \`${v.trim()}\`, not version ${version}`);
    }
    list[version] = { metadata: record.metadata, python, dir: record.dir, plugins: record.plugins };
  }
  writeFileSync(listFile, JSON.stringify(list, null, 2) + '\n');
}

/**
 * Generated pipelines for the UI tests at scale: many `command` assets in groups, with
 * dependencies inside and across groups; and one wide run of many steps that print
 * coloured (ANSI) output on stdout and stderr, a few of which fail.
 */
import fs from 'node:fs';
import path from 'node:path';

/** Options of {@link manyAssets}. */
export interface ManyAssetsOptions {
  assets: number;
  groups: number;
  /** Columns of dependency depth per group (default 6). */
  depth?: number;
}

/**
 * `assets` assets `gG/aNNNN` in `groups` groups (`grpG`), each group `depth` layers deep:
 * an asset depends on the one above it in the previous layer (and every third one on its
 * neighbour too), and each group's first asset on the previous group's first, so the
 * graph is one connected DAG whose columns run across the groups.
 */
export function manyAssets(o: ManyAssetsOptions): string {
  const depth = o.depth ?? 6;
  const per = Math.ceil(o.assets / o.groups);
  const lines = ['assets:'];
  let made = 0;
  for (let g = 0; g < o.groups && made < o.assets; g++) {
    const width = Math.max(1, Math.ceil(per / depth));
    for (let i = 0; i < per && made < o.assets; i++, made++) {
      const layer = Math.floor(i / width);
      const key = `g${g}/a${String(i).padStart(4, '0')}`;
      const deps: string[] = [];
      if (layer > 0) {
        const j = i - width;
        deps.push(`g${g}/a${String(j).padStart(4, '0')}`);
        if (i % 3 === 0 && (j + 1) % width !== 0) deps.push(`g${g}/a${String(j + 1).padStart(4, '0')}`);
      } else if (g > 0 && i === 0) deps.push(`g${g - 1}/a0000`);
      lines.push(`  - key: ${key}`, `    group: grp${g}`, '    handler: command', '    config: {run: [sh, -c, "exit 0"]}');
      if (deps.length > 0) lines.push(`    deps: [${deps.join(', ')}]`);
    }
  }
  return lines.join('\n') + '\n';
}

/**
 * `steps` independent assets `wide/sNN`: each prints three coloured lines (stdout and
 * stderr) with a short pause; every tenth fails with the same message.
 */
export function wideRun(steps: number): string {
  const lines = ['runner:', '  concurrency: 8', 'assets:'];
  for (let i = 0; i < steps; i++) {
    const key = `wide/s${String(i).padStart(2, '0')}`;
    const fail = i % 10 === 9;
    const script = [
      `printf '\\033[32mstarting ${key}\\033[0m\\n'`,
      `sleep 0.0${i % 7}`,
      `printf '\\033[1;33mwarning\\033[0m from ${key}\\n' >&2`,
      fail ? `printf '\\033[31mboom: the source is down\\033[0m\\n' >&2; exit 3` : `printf 'done ${key}\\n'`,
    ].join('; ');
    lines.push(`  - key: ${key}`, '    group: wide', '    handler: command', `    config: {run: [sh, -c, ${JSON.stringify(script)}]}`);
  }
  return lines.join('\n') + '\n';
}

/** Writes `yaml` as `<dir>/pipelines/main.yaml`; the pipelines directory. */
export function writeProject(dir: string, yaml: string): string {
  const p = path.join(dir, 'pipelines');
  fs.mkdirSync(p, { recursive: true });
  fs.writeFileSync(path.join(p, 'main.yaml'), yaml);
  return p;
}

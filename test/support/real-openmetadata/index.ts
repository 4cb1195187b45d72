/**
 * The real OpenMetadata CLI in tests: its own config parser's verdict on workflows
 * (parse_workflows.py, run with the venv's Python; nothing is connected to).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import type { InstalledCli } from '../peers.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));

/** The real parser's verdict on one workflow. */
export interface RealVerdict {
  valid: boolean;
  /** The exception the parser raised (type and message), when invalid. */
  error: string | null;
}

/** Runs every workflow through the real CLI's `parse_workflow_config_gracefully`, in one Python process. */
export async function realVerdicts(cli: InstalledCli, workflows: Map<string, unknown>): Promise<Map<string, RealVerdict>> {
  const input = JSON.stringify([...workflows].map(([name, workflow]) => ({ name, workflow })));
  const r = await execa(cli.python, [path.join(HERE, 'parse_workflows.py')], { input, reject: false, env: { PYTHONWARNINGS: 'ignore' }, timeout: 600_000 });
  if (r.exitCode !== 0) throw new Error(`parse_workflows.py (${cli.python}) exited ${r.exitCode}:\n${String(r.stderr).slice(-3000)}`);
  const out = new Map<string, RealVerdict>();
  for (const line of String(r.stdout).split('\n')) {
    if (!line.startsWith('{')) continue;
    const v = JSON.parse(line) as { name: string } & RealVerdict;
    out.set(v.name, { valid: v.valid, error: v.error });
  }
  if (out.size !== workflows.size) throw new Error(`parse_workflows.py gave ${out.size} verdicts for ${workflows.size} workflows`);
  return out;
}

/** `runner graph`: the asset graph as Mermaid, Graphviz dot or JSON. */
import type { Command } from 'commander';
import { choiceOption, loadOrExit, pipelinesOption, type PipelinesOptions } from '../options.js';

interface GraphOptions extends PipelinesOptions {
  select?: string;
  format: 'mermaid' | 'dot' | 'json';
}

export function register(program: Command): void {
  const cmd = program.command('graph').description('print the asset graph (or a selection of it) as Mermaid, dot or JSON');
  pipelinesOption(cmd);
  cmd.option('-s, --select <expr>', 'only the assets this selection picks (and the edges between them)');
  cmd.addOption(choiceOption('-f, --format <format>', 'output format', ['mermaid', 'dot', 'json'], 'mermaid'));
  cmd.addHelpText(
    'after',
    `
Examples:
  runner graph                                  # Mermaid, for a README or GitHub comment
  runner graph --format dot | dot -Tsvg > graph.svg
  runner graph --select '+openmetadata/trino/lineage' --format json`,
  );
  cmd.action(async (opts: GraphOptions) => {
    const defs = await loadOrExit(opts);
    const { graphDocument, renderGraph } = await import('../graph-view.js');
    const doc = graphDocument(defs, opts.select);
    process.stdout.write(renderGraph(doc, opts.format));
  });
}

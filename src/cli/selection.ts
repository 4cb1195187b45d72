/** The selection context of loaded definitions, with `status:` read from the run store when there is one. */
import type { Definitions } from '../definitions/model.js';
import type { SelectionContext } from '../selection/index.js';

export function selectionContext(defs: Definitions, lastStatus?: (key: string) => string | undefined): SelectionContext {
  return { graph: defs.graph, assets: defs.assets, jobs: defs.jobs, lastStatus };
}

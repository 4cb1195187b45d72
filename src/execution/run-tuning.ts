/**
 * A one-shot run (`runner materialize`, `runner retry`) calls the same few hundred
 * functions once per step: at V8's default interrupt budget most of them get optimized by
 * TurboFan, whose background compiles took an eighth of the CPU of a 1,000-step run on 2
 * cores, away from the steps. So once the definitions are loaded (where early
 * optimization pays: a cold check of 60,000 assets took 25% longer with the larger
 * budget), the budget is raised 32x; what is really hot (the output of a step printing
 * 500 MB) is still optimized within milliseconds. V8 reads the budget whenever it resets
 * a function's, so it can be set at run time. docs/benchmarks.md, "materialize".
 */
import v8 from 'node:v8';

/** V8's default `--interrupt-budget` (Node 20, V8 11.3): bytecode run before a function is considered for optimization. */
const DEFAULT_INTERRUPT_BUDGET = 66 * 1024;

/** How many times the default budget a run gets. */
const RUN_BUDGET_FACTOR = 32;

/** Applies a one-shot run's JIT setting to this process (the CLI calls it just before a run starts). */
export function tuneForRun(): void {
  v8.setFlagsFromString(`--interrupt-budget=${RUN_BUDGET_FACTOR * DEFAULT_INTERRUPT_BUDGET}`);
}

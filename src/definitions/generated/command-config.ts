/* Generated from schemas/ by `npm run gen` (json-schema-to-typescript). Do not edit. */

/**
 * The `command` handler: runs a program (no shell) and succeeds when it exits 0.
 */
export interface CommandConfig {
  /**
   * The program and its arguments, e.g. `[dbt, build, --select, my_model]`. No shell is involved: write `[sh, -c, "..."]` to use one.
   *
   * @minItems 1
   *
   * Items: One argument. A program's arguments are visible to every user of the machine (`ps`), so an argument may not reference a secret: pass it through `env` instead.
   */
  run: [string, ...string[]];
  /**
   * The working directory, relative to the pipelines directory's parent (the project) unless absolute.
   */
  cwd?: string;
  /**
   * Environment variables added to the runner's own. Values may reference `${secret:NAME}`: the secret reaches the program through its environment, never its argv.
   */
  env?: {
    /**
     * The variable's value.
     */
    [k: string]: string;
  };
}

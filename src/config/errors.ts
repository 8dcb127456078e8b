/**
 * The one error an invalid configuration produces. It carries every problem found, each as
 * `path.to.field: message` (prefixed with the file for catalogs and whole-file problems), so an
 * operator fixes them all in one pass.
 */
export class ConfigError extends Error {
  readonly code = 'LOOKOUT_CONFIG_INVALID';
  readonly problems: string[];

  constructor(problems: readonly string[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid configuration (${count}):\n${problems.map((p) => `  ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = [...problems];
  }
}

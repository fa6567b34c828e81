/**
 * The engine versions a hand-off job is written for. Axolotl pins the rest of its stack (its
 * pyproject.toml at v0.18.0), so the TRL script is written for the same TRL, PEFT, transformers
 * and Accelerate: one tested set of versions, named in every job's README and job file.
 * The field lists in fixtures/handoff/ were read from these versions' sources.
 */
export const ENGINE_VERSIONS = {
  axolotl: '0.18.0',
  trl: '1.8.0',
  peft: '0.19.1',
  transformers: '5.14.1',
  accelerate: '1.13.0',
} as const;

export const ENGINES = ['axolotl', 'trl'] as const;
export type Engine = (typeof ENGINES)[number];

export function isEngine(value: string): value is Engine {
  return (ENGINES as readonly string[]).includes(value);
}

/** The source kinds the sidecar ships, and the registry it uses unless given another. */
import { createSourceRegistry, type SourceRegistry } from './kind.js';
import { prometheusKind } from './prometheus.js';
import { scrapeKind } from './scrape.js';

export type { CounterResetEvent } from '@tidewatch/forecast';
export {
  createSourceRegistry,
  kindList,
  type LeadingContext,
  type LeadingFigures,
  type LeadingReader,
  type SourceCheckContext,
  type SourceContext,
  type SourceKind,
  type SourceNames,
  type SourceProblem,
  type SourceRegistry,
  type SourceSetting,
} from './kind.js';
export {
  type PrometheusSourceConfig,
  prometheusKind,
  prometheusSchema,
} from './prometheus.js';
export { type ScrapeSourceConfig, scrapeKind, scrapeSchema } from './scrape.js';

/** The shipped kinds in the order messages list them. */
export const BUILTIN_SOURCE_KINDS = [scrapeKind, prometheusKind] as const;

/** A new registry holding the shipped kinds; `register()` more on it. */
export function builtinSourceRegistry(): SourceRegistry {
  return createSourceRegistry([...BUILTIN_SOURCE_KINDS]);
}

/**
 * The registry used when none is given: the shipped kinds, sealed (`register` throws), so no
 * caller can change what another one parses.
 */
export const DEFAULT_SOURCES: SourceRegistry = Object.freeze({
  ...builtinSourceRegistry(),
  register(): never {
    throw new Error('the default source registry is sealed: register on builtinSourceRegistry()');
  },
});

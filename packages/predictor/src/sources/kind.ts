/**
 * The seam every source goes through in the sidecar: a {@link SourceKind} binds a `source.kind`
 * to its config schema, its defaults, its names, its scope and the `@tidewatch/forecast`
 * {@link Source} it creates; a {@link SourceRegistry} holds the kinds. The config loader, the
 * collector, the app and the status page ask the registry, never a `kind ===` test, so a new
 * source is one kind registered, in this package or in the caller's code.
 */
import type { SourceScope } from '@tidewatch/conventions';
import type { CounterResetEvent, Source } from '@tidewatch/forecast';
import type { z } from 'zod';

/** What a kind's source gets from the sidecar when it is created. */
export interface SourceContext {
  /** The metric the sidecar forecasts (`config.metric`). */
  readonly metric: string;
  /** The collection step, milliseconds. */
  readonly stepMs: number;
  /** The sidecar's clock, unix ms. */
  now(): number;
  /**
   * Every raw exposition the source fetched, for the status page's live figures; only called
   * by kinds with `live: true`. Must not throw.
   */
  onExposition?: (url: string, text: string, atMs: number) => void;
  /**
   * Every counter reset the source sees (kinds that turn counters into rates; the `scrape`
   * kind passes it to `createScrapeSource`). Must not throw.
   */
  onCounterReset?: (event: CounterResetEvent) => void;
}

/**
 * Fleet totals at one instant: what the sidecar's nowcast observes after each collection
 * (docs/sidecar.md "Nowcast").
 */
export interface LeadingFigures {
  /** When they were read, unix ms (the sidecar's clock). */
  readonly atMs: number;
  /** Open connections, summed over the fleet. */
  readonly connections: number;
  /** Successful handshakes per second, over the reader's rate window. */
  readonly handshakesPerSecond: number;
  /** Abnormal closes (clients that come back) per second, over the same window. */
  readonly abnormalClosesPerSecond: number;
  /** Ready pods (scraped servers for `scrape`); 0 when the reader cannot tell. Not used by the estimate. */
  readonly readyPods: number;
}

/** Reads the {@link LeadingFigures} itself (a kind without live expositions, e.g. `prometheus`). */
export interface LeadingReader {
  /**
   * The figures now, or `null` when the fleet has none (an empty connections sum).
   * @throws (rejects) SourceError naming the source, counted like a failed collection; the
   *   signal's reason when it aborts.
   */
  read(signal?: AbortSignal): Promise<LeadingFigures | null>;
}

/** What {@link SourceKind.leading} gets from the sidecar. */
export interface LeadingContext {
  /** The forecast metric (`config.metric`), the middleware's connections gauge. */
  readonly metric: string;
  /** The middleware's metric prefix (`config.live.prefix`). */
  readonly prefix: string;
  /** The sidecar's clock, unix ms. */
  now(): number;
}

/**
 * A `TIDEWATCH_*` variable or a `serve` flag that sets a field of this kind (and may select
 * it). It applies to this kind only: when a higher origin selects another kind it is ignored
 * (with a warning); when its own or a lower origin does, it is an error.
 */
export interface SourceSetting {
  /** `TIDEWATCH_SCRAPE_URLS` or `--scrape`. */
  readonly name: string;
  /** The field under `source`, e.g. `urls`. */
  readonly field: string;
  /** How the text becomes a value. */
  readonly type: 'string' | 'int' | 'number' | 'list';
  /** Setting it selects this kind (the other kinds' fields are dropped). */
  readonly selects: boolean;
  /** How the "no source" message shows it, e.g. `--scrape URL (repeatable)`. */
  readonly usage?: string;
}

/** A problem {@link SourceKind.check} finds in a source block, given the rest of the config. */
export interface SourceProblem {
  /** The field under `source`, e.g. `maxPoints`. */
  readonly field: string;
  /** "must be ..." (the loader prefixes the origin and the field, and shows `value`). */
  readonly message: string;
  /** The value checked (shown in the message; may be a default). */
  readonly value: unknown;
}

/** The rest of the config a kind's {@link SourceKind.check} sees, resolved. */
export interface SourceCheckContext {
  /** Ring capacity, points (the first collection reads this many steps back). */
  readonly historyPoints: number;
  /** The collection step, seconds. */
  readonly stepSeconds: number;
}

/** The names a configured source is known by. */
export interface SourceNames {
  /** `scrape:URL[,URL...]`, `prometheus:URL`: on `/forecast` and in messages. */
  readonly name: string;
  /**
   * What `tidewatch_source_errors_total{source}` counts failures under (created at 0 at start):
   * one per target for a multi-target kind.
   */
  readonly errorSources: readonly string[];
}

/**
 * One kind of source. `C` is the kind's config block as its schema outputs it.
 */
export interface SourceKind<C extends { kind: string } = { kind: string }> {
  /** The `source.kind` value. */
  readonly kind: string;
  /**
   * The config block's zod schema: a strict object with `kind: z.literal(kind)`; every message
   * is "must be ..." so the loader can prefix the field and its origin.
   */
  readonly schema: z.ZodType<C>;
  /** `fleet` when every sidecar sees the whole fleet, `pod` when it sees its own server. */
  readonly scope: SourceScope;
  /** Whether it feeds `SourceContext.onExposition`, which the status page's live figures need. */
  readonly live: boolean;
  /**
   * Kinds that are not `live` but can read the nowcast's leading signals themselves: a reader,
   * or one line saying why not (shown as the nowcast's reason). Default: none (no nowcast).
   */
  leading?(source: C, context: LeadingContext): LeadingReader | string;
  /** Environment variables and flags of this kind (config-file-only kinds have none). */
  readonly settings?: readonly SourceSetting[];
  /** Fills defaults that depend on the rest of the config, e.g. a query from the metric. */
  resolve?(source: C, config: { readonly metric: string }): C;
  /**
   * Cross-checks a valid block against the rest of the config (a limit the history would
   * exceed); the loader reports each problem like a field's. Default: none.
   */
  check?(source: C, config: SourceCheckContext): readonly SourceProblem[];
  /** The names it is known by. */
  names(source: C): SourceNames;
  /**
   * The source to collect from. The collector reads everything after the newest stored point
   * up to now; a live source returns what it sees now.
   * @throws OptionError for options its schema could not check (none expected).
   */
  create(source: C, context: SourceContext): Source;
}

/** The kinds a sidecar knows. */
export interface SourceRegistry {
  /** Every registered kind, in registration order. */
  readonly kinds: readonly SourceKind[];
  /**
   * Adds a kind.
   * @throws Error when a kind of that name is already registered.
   */
  register<C extends { kind: string }>(kind: SourceKind<C>): SourceRegistry;
  /** The kind, or undefined. */
  get(kind: string): SourceKind | undefined;
  /**
   * The kind.
   * @throws Error naming the registered kinds when there is none of that name.
   */
  require(kind: string): SourceKind;
}

/**
 * A registry holding `kinds` (in order).
 * @throws Error when two kinds share a name.
 */
export function createSourceRegistry(kinds: readonly SourceKind<any>[] = []): SourceRegistry {
  const list: SourceKind[] = [];
  const registry: SourceRegistry = {
    get kinds() {
      return list;
    },
    register(kind) {
      if (list.some((k) => k.kind === kind.kind))
        throw new Error(`source kind "${kind.kind}" is already registered`);
      list.push(kind as unknown as SourceKind);
      return registry;
    },
    get(kind) {
      return list.find((k) => k.kind === kind);
    },
    require(kind) {
      const found = list.find((k) => k.kind === kind);
      if (!found)
        throw new Error(
          `unknown source kind "${kind}" (registered: ${list.map((k) => k.kind).join(', ')}); pass the registry that parsed the config to createSidecar({ sources })`,
        );
      return found;
    },
  };
  for (const k of kinds) registry.register(k);
  return registry;
}

/** `"a"`, `"a" or "b"`, `"a", "b" or "c"`: the kinds as a config message lists them. */
export function kindList(registry: SourceRegistry): string {
  const names = registry.kinds.map((k) => `"${k.kind}"`);
  return names.length <= 1
    ? (names[0] ?? 'nothing')
    : `${names.slice(0, -1).join(', ')} or ${names[names.length - 1]}`;
}

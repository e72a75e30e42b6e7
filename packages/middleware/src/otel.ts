/**
 * `@tidewatch/middleware/otel`: {@link RealtimeInstrumentation}, for OpenTelemetry's
 * `registerInstrumentations`.
 * @packageDocumentation
 */
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import type { Registry } from 'prom-client';
import { instrumentSocketIo } from './adapters/socketio/socketio.js';
import { instrumentWs } from './adapters/ws/ws.js';
import { ErrorCodes } from './errors.js';
import type { InstrumentationHandle } from './internal/instrumentation.js';
import { readOptions } from './internal/options.js';
import { VERSION } from './internal/version.js';
import {
  createRealtimeMetrics,
  type RealtimeMetrics,
  type RealtimeMetricsOptions,
} from './metrics.js';
import { addServerConsumer, registerImportHook } from './register/hooks.js';

/** Configuration of {@link RealtimeInstrumentation}. */
export interface RealtimeInstrumentationConfig {
  /**
   * OpenTelemetry's convention: whether the instrumentation is on. Unlike
   * `InstrumentationBase`, construction never enables it (no hooks at `new`); `enable()`
   * or `registerInstrumentations` does, after the providers are set. Default true.
   */
  enabled?: boolean;
  /** Which servers to instrument. Default both. */
  instrument?: ReadonlyArray<'ws' | 'socket.io'>;
  /** Also register the metrics in this prom-client registry (e.g. to serve `/metrics`). */
  registry?: Registry;
  /**
   * Register import-in-the-middle's loader at `enable()`, so servers of modules `import`ed
   * afterwards are caught at creation. Set false when your OpenTelemetry setup registers
   * it already (`--import @opentelemetry/auto-instrumentations-node/register`, or
   * `module.register('@opentelemetry/instrumentation/hook.mjs')`): two loaders warn. Servers
   * the hooks miss are still caught at their first connection when `ws` or `socket.io` was
   * loaded before `enable()`. Default true.
   */
  esmLoader?: boolean;
  /** Handshake spans through the tracer provider. Default true. */
  tracing?: boolean;
  /** Passed to `createRealtimeMetrics`. */
  prefix?: RealtimeMetricsOptions['prefix'];
  /** Passed to `createRealtimeMetrics`. */
  endpoint?: RealtimeMetricsOptions['endpoint'];
  /** Passed to `createRealtimeMetrics`. */
  clientType?: RealtimeMetricsOptions['clientType'];
  /** Passed to `createRealtimeMetrics`, in ms. */
  idleAfterMs?: RealtimeMetricsOptions['idleAfterMs'];
  /** Passed to `createRealtimeMetrics`. */
  seriesCap?: RealtimeMetricsOptions['seriesCap'];
}

const KNOWN = [
  'enabled',
  'esmLoader',
  'instrument',
  'registry',
  'tracing',
  'prefix',
  'endpoint',
  'clientType',
  'idleAfterMs',
  'seriesCap',
];

/**
 * An OpenTelemetry `Instrumentation` for `ws` and Socket.IO servers:
 *
 * ```ts
 * registerInstrumentations({ instrumentations: [new RealtimeInstrumentation()] });
 * ```
 *
 * When enabled it hooks `ws` and `socket.io` (require-in-the-middle, and
 * import-in-the-middle when its loader is registered, as the OpenTelemetry SDK's ESM setup
 * does) and instruments every server the app creates, before or after enabling, recording
 * through the meter provider it was given (`setMeterProvider`) and, with `tracing`, handshake
 * spans through the tracer provider. Disabling detaches every server; counters keep their
 * values in the meter provider.
 *
 * It implements the `Instrumentation` interface structurally rather than extending
 * `@opentelemetry/instrumentation`'s `InstrumentationBase`, so the middleware adds no
 * dependency for the users who never use OpenTelemetry's registration: the base class is
 * built to patch module exports, while this one has to find *instances* (servers made
 * before it loaded included), which the shared hooks of the register entry do.
 *
 * A server instrumented by another metrics instance (your own `instrumentWs`, or the
 * register entry) is left to it.
 */
export class RealtimeInstrumentation {
  /** OpenTelemetry instrumentation scope name. */
  readonly instrumentationName = '@tidewatch/middleware';
  /** Package version. */
  readonly instrumentationVersion = VERSION;
  private config: RealtimeInstrumentationConfig;
  private meterProvider: MeterProvider | undefined;
  private tracerProvider: TracerProvider | undefined;
  private active:
    | { metrics: RealtimeMetrics; handles: InstrumentationHandle[]; stop: () => void }
    | undefined;

  /**
   * @param config - see {@link RealtimeInstrumentationConfig}.
   * @throws {TidewatchConfigError} naming an unknown or bad option.
   */
  constructor(config: RealtimeInstrumentationConfig = {}) {
    this.config = check(config);
  }

  /** Starts instrumenting (idempotent). Hooks are installed on first use. */
  enable(): void {
    if (this.active) return;
    const c = this.config;
    if (c.esmLoader !== false) registerImportHook();
    const metrics = createRealtimeMetrics({
      ...(c.registry !== undefined && { registry: c.registry }),
      ...(this.meterProvider !== undefined && { meterProvider: this.meterProvider }),
      ...(c.tracing !== false && {
        tracing: this.tracerProvider ? { tracerProvider: this.tracerProvider } : true,
      }),
      ...(c.prefix !== undefined && { prefix: c.prefix }),
      ...(c.endpoint !== undefined && { endpoint: c.endpoint }),
      ...(c.clientType !== undefined && { clientType: c.clientType }),
      ...(c.idleAfterMs !== undefined && { idleAfterMs: c.idleAfterMs }),
      ...(c.seriesCap !== undefined && { seriesCap: c.seriesCap }),
    });
    const kinds = new Set(c.instrument ?? ['ws', 'socket.io']);
    const handles: InstrumentationHandle[] = [];
    const attach = (fn: () => InstrumentationHandle) => {
      try {
        handles.push(fn());
      } catch (err) {
        if ((err as { code?: string })?.code !== ErrorCodes.ALREADY_INSTRUMENTED) throw err;
      }
    };
    const active = { metrics, handles, stop: () => {} };
    this.active = active;
    active.stop = addServerConsumer({
      ws: (wss) => {
        if (kinds.has('ws')) attach(() => instrumentWs(wss as never, metrics));
      },
      socketIo: (io) => {
        if (kinds.has('socket.io')) attach(() => instrumentSocketIo(io as never, metrics));
      },
    });
    this.config = { ...this.config, enabled: true };
  }

  /** Detaches every server this instrumentation instrumented (idempotent). */
  disable(): void {
    const a = this.active;
    this.active = undefined;
    this.config = { ...this.config, enabled: false };
    if (!a) return;
    a.stop();
    for (const h of a.handles) h();
    a.metrics.close();
  }

  /** The meter provider to record through; applied at once when enabled. */
  setMeterProvider(meterProvider: MeterProvider): void {
    this.meterProvider = meterProvider;
    this.restart();
  }

  /** The tracer provider for handshake spans; applied at once when enabled. */
  setTracerProvider(tracerProvider: TracerProvider): void {
    this.tracerProvider = tracerProvider;
    this.restart();
  }

  /** No logs are emitted; accepted for the interface. */
  setLoggerProvider(_loggerProvider: unknown): void {}

  /**
   * Replaces the configuration; applied at once when enabled.
   * @throws {TidewatchConfigError} naming an unknown or bad option.
   */
  setConfig(config: RealtimeInstrumentationConfig): void {
    const enabled = this.active !== undefined;
    this.config = { ...check(config), enabled };
    this.restart();
  }

  /** The configuration; `enabled` says whether it is on now. */
  getConfig(): RealtimeInstrumentationConfig {
    return { ...this.config, enabled: this.active !== undefined };
  }

  /** The metrics in use while enabled (e.g. for `metricsHandler`), else undefined. */
  get metrics(): RealtimeMetrics | undefined {
    return this.active?.metrics;
  }

  /**
   * Re-creates the metrics with the new providers. With a `registry` of yours the first
   * metrics instance stays registered there (createRealtimeMetrics returns it again), so
   * providers are read once, at the first enable.
   */
  private restart(): void {
    if (!this.active || this.config.registry !== undefined) return;
    this.disable();
    this.enable();
  }
}

function check(config: RealtimeInstrumentationConfig): RealtimeInstrumentationConfig {
  // The metrics options themselves are checked by createRealtimeMetrics at enable().
  return { ...(readOptions(config, KNOWN) as RealtimeInstrumentationConfig) };
}

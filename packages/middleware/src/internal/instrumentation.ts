import { ErrorCodes, TidewatchConfigError } from '../errors.js';
import type { Internals, RealtimeMetrics } from '../metrics.js';
import type { CoarseClock } from './clock.js';
import type { Collector, Recorder } from './recorder.js';
import type { HandshakeTracing } from './tracing.js';

// The skeleton every adapter is built on, after OpenTelemetry contrib's
// InstrumentationBase: an adapter validates its options, then records every change it
// makes to objects it does not own (wrapped methods, listeners, collectors, timers,
// marks) in one registry, so that detaching undoes exactly those, newest first, once.

/**
 * What `instrumentWs`, `instrumentSocketIo` and `instrumentUpgrade` return. Call it, or
 * its `detach()`: both detach the instrumentation (restore every wrapped method and
 * listener, stop its timers and scrape collectors). Counters keep their values. Idempotent,
 * and never throws. `metrics.close()` detaches it too.
 *
 * @example
 * const detach = instrumentWs(wss, metrics);
 * detach(); // or detach.detach()
 */
export interface InstrumentationHandle {
  /** Detaches; the same as {@link InstrumentationHandle.detach}. */
  (): void;
  /** Detaches: restores everything the adapter changed. Idempotent; never throws. */
  detach(): void;
}

/** A method as wrappers see it: called with the instrumented object as `this`. */
export type Method = (this: any, ...args: any[]) => unknown;

/**
 * Puts back what a wrapper replaced: the object's own original, or nothing (the
 * prototype's shows through again). Left alone when someone replaced the wrapper since:
 * removing it would drop their wrapper too, so wrappers stay inert instead.
 */
export function unwrapMethod(
  obj: any,
  name: string | symbol,
  wrapper: unknown,
  ownOriginal: unknown,
): void {
  if (obj[name] !== wrapper) return;
  if (ownOriginal !== undefined) obj[name] = ownOriginal;
  else delete obj[name];
}

/** The parts of an EventEmitter that {@link Patches.listen} uses. */
export interface EmitterLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  prependListener?(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * The wrap/unwrap registry: every change made through it is recorded with its undo, and
 * {@link Patches.unwrapAll} runs the undos newest first (so stacked wrappers come off in
 * the order they went on), each guarded, at most once. After that, new changes are
 * refused: `wrap` and `listen` do nothing, `defer` runs its undo at once.
 */
export class Patches {
  /** False once {@link unwrapAll} ran. */
  active = true;
  /** Undos in the order recorded; a Set so that a child scope leaving is O(1). */
  private readonly undos = new Set<() => void>();
  private readonly onError: (err: unknown) => void;
  private unlink: (() => void) | undefined;

  /** @param onError receives an error thrown by an undo; the others still run. */
  constructor(onError: (err: unknown) => void) {
    this.onError = onError;
  }

  /** Records an undo step. */
  defer(undo: () => void): void {
    if (this.active) this.undos.add(undo);
    else this.run(undo);
  }

  /**
   * Replaces `obj[name]` with `make(original)` as an own property. Does nothing when
   * `obj[name]` is not a function. The wrapper must call the original itself, and should
   * pass straight through once the owner is detached (see {@link unwrapMethod}).
   * @returns whether it wrapped.
   */
  wrap(obj: any, name: string, make: (original: Method) => Method): boolean {
    const original = obj?.[name];
    if (!this.active || typeof original !== 'function') return false;
    const own = Object.hasOwn(obj, name) ? original : undefined;
    const wrapper = make(original);
    obj[name] = wrapper;
    this.defer(() => unwrapMethod(obj, name, wrapper, own));
    return true;
  }

  /** Adds an event listener (first in line with `prepend`); removed on undo. */
  listen(
    emitter: EmitterLike,
    event: string,
    listener: (...args: any[]) => void,
    prepend = false,
  ): void {
    if (!this.active) return;
    if (prepend) emitter.prependListener!(event, listener);
    else emitter.on(event, listener);
    this.defer(() => emitter.removeListener(event, listener));
  }

  /** Sets a hidden (non-enumerable) property; deleted on undo if it still holds `value`. */
  mark(obj: object, key: symbol, value: unknown): void {
    if (!this.active) return;
    Object.defineProperty(obj, key, { value, configurable: true, enumerable: false });
    this.defer(() => {
      if ((obj as Record<symbol, unknown>)[key] === value)
        delete (obj as Record<symbol, unknown>)[key];
    });
  }

  /**
   * A scope undone with this registry, or earlier on its own (for what comes and goes
   * while attached: an engine replaced by `io.bind()`, a namespace removed).
   */
  child(): Patches {
    const c = new Patches(this.onError);
    const undo = () => c.unwrapAll();
    this.defer(undo);
    c.unlink = () => this.undos.delete(undo);
    return c;
  }

  /** Undoes everything recorded, newest first. Idempotent. */
  unwrapAll(): void {
    if (!this.active) return;
    this.active = false;
    this.unlink?.();
    const steps = [...this.undos];
    this.undos.clear();
    for (let i = steps.length - 1; i >= 0; i--) this.run(steps[i]!);
  }

  private run(undo: () => void): void {
    try {
      undo();
    } catch (err) {
      this.onError(err);
    }
  }
}

/** Makes the scrape-computed series of a transport exist from the start, so dashboards show 0, not nothing. */
export function presetScrapeSeries(recorder: Recorder, transport: string): void {
  recorder.series('sendBuffer', [transport]);
  recorder.series('slowConsumers', [transport]);
  recorder.series('handshakesInFlight', [transport]);
}

/**
 * One attachment of an adapter to one set of metrics: what it wrapped ({@link patches}),
 * the metrics internals it writes to, and its detach. Adapters get one from
 * {@link instrument} (the `instrument*` functions) or construct one (the HTTP middleware).
 */
export class Instrumentation {
  readonly metrics: RealtimeMetrics;
  readonly internals: Internals;
  readonly recorder: Recorder;
  /** The metrics' coarse clock; hold it with {@link useClock} while per-message code reads it. */
  readonly clock: CoarseClock;
  /** Handshake spans; undefined when tracing is off. */
  readonly tracing: HandshakeTracing | undefined;
  readonly patches: Patches;
  /** Undoes everything, newest first; idempotent, never throws. */
  readonly detach: () => void;

  /** @param site prefix of the `instrumentation_errors_total` site of a failing undo (`ws` -> `ws.detach`). */
  constructor(metrics: RealtimeMetrics, internals: Internals, site: string) {
    this.metrics = metrics;
    this.internals = internals;
    this.recorder = internals.recorder;
    this.clock = internals.clock;
    this.tracing = internals.tracing;
    this.patches = new Patches((err) => this.recorder.error(`${site}.detach`, err));
    const detach = () => this.patches.unwrapAll();
    this.detach = detach;
    internals.detachers.add(detach);
    this.patches.defer(() => internals.detachers.delete(detach));
  }

  /** False once detached: wrappers that could not be removed pass straight through. */
  get active(): boolean {
    return this.patches.active;
  }

  /** Registers a scrape-time collector until detach. */
  collect(collector: Collector): void {
    this.patches.defer(this.recorder.addCollector(collector));
  }

  /** Keeps the coarse clock ticking until detach. */
  useClock(): void {
    this.clock.acquire();
    this.patches.defer(() => this.clock.release());
  }

  /** Runs `fn` every `ms` until detach; the timer never keeps the process alive. */
  every(ms: number, fn: () => void): void {
    const timer = setInterval(fn, ms);
    timer.unref();
    this.patches.defer(() => clearInterval(timer));
  }

  /** Runs `fn` at detach (after everything recorded later is undone). */
  onDetach(fn: () => void): void {
    this.patches.defer(fn);
  }

  /** Runs `fn`; an error is counted at `site` instead of reaching the host. */
  guard(site: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.recorder.error(site, err);
    }
  }
}

/** What an adapter leaves on the object it instruments, so a second attach is harmless. */
interface Attachment {
  readonly metrics: RealtimeMetrics;
  readonly detach: InstrumentationHandle;
}

/** Attach-once: where an adapter marks its target, and the option that names the target. */
export interface AttachOnce {
  readonly target: object;
  /** A `Symbol.for` key, so the ESM and CommonJS builds in one process see each other. */
  readonly key: symbol;
  /** Named in `TW_ERR_ALREADY_INSTRUMENTED`, e.g. `wss`. */
  readonly option: string;
}

/**
 * The handle of an earlier attachment of the same metrics to `once.target`, or undefined
 * when it is not instrumented yet.
 * @throws {TidewatchConfigError} `TW_ERR_ALREADY_INSTRUMENTED` when other metrics hold it.
 */
function priorAttachment(once: AttachOnce, metrics: RealtimeMetrics) {
  const prior = (once.target as Record<symbol, Attachment | undefined>)[once.key];
  if (!prior) return undefined;
  if (prior.metrics !== metrics) {
    throw new TidewatchConfigError(
      once.option,
      'is already instrumented by another metrics instance; detach it first',
      ErrorCodes.ALREADY_INSTRUMENTED,
    );
  }
  // An attachment made by an older tidewatch in this process holds a bare function.
  const d = prior.detach as Partial<InstrumentationHandle> & (() => void);
  return typeof d.detach === 'function' ? prior.detach : handleOf(d, {});
}

function handleOf<E extends object>(detach: () => void, extra: E): InstrumentationHandle & E {
  const handle = (() => detach()) as InstrumentationHandle & E;
  handle.detach = detach;
  return Object.assign(handle, extra);
}

/**
 * Attaches an adapter: with `once`, returns the existing handle when the same metrics
 * already instrument the target (so nothing is counted twice); otherwise runs `setup`
 * with a fresh {@link Instrumentation} and returns its handle, carrying what `setup`
 * returns (e.g. `connectionFor`). A `setup` that throws is undone before the error goes on.
 *
 * Call it after validating the options: bad options throw even on a second attach.
 * @param site prefix of the instrumentation error sites of this adapter (`ws`, `socketio`).
 * @throws {TidewatchConfigError} `TW_ERR_ALREADY_INSTRUMENTED` when other metrics hold the target.
 */
export function instrument<E extends object = object>(
  metrics: RealtimeMetrics,
  internals: Internals,
  site: string,
  once: AttachOnce | undefined,
  setup: (inst: Instrumentation) => E | undefined,
): InstrumentationHandle & E {
  if (once) {
    const prior = priorAttachment(once, metrics);
    if (prior) return prior as InstrumentationHandle & E;
  }
  const inst = new Instrumentation(metrics, internals, site);
  let extra: E | undefined;
  try {
    extra = setup(inst);
  } catch (err) {
    inst.detach();
    throw err;
  }
  const handle = handleOf(inst.detach, extra ?? ({} as E));
  if (once)
    inst.patches.mark(once.target, once.key, { metrics, detach: handle } satisfies Attachment);
  return handle;
}

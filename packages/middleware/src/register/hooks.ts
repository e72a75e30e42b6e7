import { createRequire, register } from 'node:module';
import { Hook as ImportHook } from 'import-in-the-middle';
import { Hook as RequireHook } from 'require-in-the-middle';

// Finds every `ws` WebSocketServer and Socket.IO Server a process creates, the way
// OpenTelemetry's auto-instrumentations find the modules they patch: require-in-the-middle
// for `require()`, import-in-the-middle for `import` (its loader must be registered first:
// the register entry does that). Three nets, so a server is caught however it was made:
// 1. the exported classes are swapped for Proxies whose `construct` reports each new server
//    (a Proxy keeps `instanceof`, statics and `prototype`, and can be subclassed);
// 2. servers made before the hooks (their module loaded, the class already in the app's
//    hands) are caught lazily, on their first upgrade or connection, by a prototype patch;
// 3. engine.io's own internal `ws` server is never reported as a WebSocket server of the
//    app: Socket.IO counts those connections already.
// State lives on globalThis, so the ESM and CommonJS builds (both may load in one process)
// share one set of hooks and never report a server twice.

/** Receives every server found; what it does with them is its business (it must not throw). */
export interface ServerConsumer {
  ws(wss: object): void;
  socketIo(io: object): void;
}

type AnyClass = abstract new (...args: any[]) => any;
type AnyFn = (this: any, ...args: any[]) => any;

interface HookState {
  consumers: Set<ServerConsumer>;
  installed: boolean;
  /** Servers reported so far (weakly), so a consumer that arrives late still gets them. */
  known: { ws: Set<WeakRef<object>>; sio: Set<WeakRef<object>> };
  seen: WeakSet<object>;
  /** engine.io's internal ws servers. */
  internal: WeakSet<object>;
  /** > 0 while engine.io builds its internal ws server. */
  engineDepth: number;
  proxies: WeakMap<AnyClass, AnyClass>;
  isProxy: WeakSet<AnyClass>;
  patched: WeakSet<object>;
  hooks: Array<{ unhook(): void }>;
}

const kState = Symbol.for('tidewatch.register.hooks');

function state(): HookState {
  const g = globalThis as { [kState]?: HookState };
  g[kState] ??= {
    consumers: new Set(),
    installed: false,
    known: { ws: new Set(), sio: new Set() },
    seen: new WeakSet(),
    internal: new WeakSet(),
    engineDepth: 0,
    proxies: new WeakMap(),
    isProxy: new WeakSet(),
    patched: new WeakSet(),
    hooks: [],
  };
  return g[kState];
}

function report(kind: 'ws' | 'sio', server: object): void {
  const st = state();
  if (st.seen.has(server)) return;
  st.seen.add(server);
  st.known[kind].add(new WeakRef(server));
  for (const c of st.consumers) deliver(c, kind, server);
}

function deliver(c: ServerConsumer, kind: 'ws' | 'sio', server: object): void {
  try {
    if (kind === 'ws') c.ws(server);
    else c.socketIo(server);
  } catch {
    // A consumer reports its own failures; the app's server must be built regardless.
  }
}

function reportWs(wss: object): void {
  const st = state();
  if (st.internal.has(wss)) return;
  if (st.engineDepth > 0) {
    st.internal.add(wss);
    return;
  }
  report('ws', wss);
}

function reportSio(io: any): void {
  const ws = io?.engine?.ws;
  if (ws && typeof ws === 'object') state().internal.add(ws);
  report('sio', io);
}

/** A Proxy of `cls` whose construction reports the new instance; one per class. */
function proxify(cls: unknown, onNew: (o: object) => void): unknown {
  if (typeof cls !== 'function') return cls;
  const st = state();
  const c = cls as AnyClass;
  if (st.isProxy.has(c)) return c;
  let p = st.proxies.get(c);
  if (p === undefined) {
    const proxy: AnyClass = new Proxy(c, {
      construct(target, args, newTarget) {
        const o = Reflect.construct(target, args, newTarget === proxy ? target : newTarget);
        onNew(o);
        return o;
      },
    });
    p = proxy;
    st.proxies.set(c, p);
    st.isProxy.add(p);
  }
  return p;
}

/** Replaces `proto[name]` once with `make(original)`, non-enumerable like a class method. */
function patchMethod(proto: any, name: string, make: (orig: AnyFn) => AnyFn): void {
  const st = state();
  const orig = proto?.[name];
  if (typeof orig !== 'function' || st.patched.has(orig)) return;
  const wrapped = make(orig);
  st.patched.add(wrapped);
  Object.defineProperty(proto, name, {
    value: wrapped,
    writable: true,
    configurable: true,
    enumerable: false,
  });
}

function patchWsClass(cls: any): void {
  patchMethod(cls?.prototype, 'handleUpgrade', (orig) => {
    const wrapped = function (this: any, ...args: any[]) {
      const st = state();
      if (this && !st.seen.has(this) && !st.internal.has(this)) {
        // Made before the hooks: report it now. The consumer wraps handleUpgrade on the
        // instance, so go through that wrapper for this very upgrade.
        reportWs(this);
        const own = Object.hasOwn(this, 'handleUpgrade') ? this.handleUpgrade : undefined;
        if (typeof own === 'function' && own !== wrapped) return own.apply(this, args);
      }
      return orig.apply(this, args);
    };
    return wrapped;
  });
}

function patchEngineClass(cls: any): void {
  const proto = cls?.prototype;
  patchMethod(
    proto,
    'init',
    (orig) =>
      function (this: any, ...args: any[]) {
        const st = state();
        st.engineDepth++;
        try {
          return orig.apply(this, args);
        } finally {
          st.engineDepth--;
          if (this?.ws && typeof this.ws === 'object') st.internal.add(this.ws);
        }
      },
  );
  patchMethod(
    proto,
    'handleUpgrade',
    (orig) =>
      function (this: any, ...args: any[]) {
        if (this?.ws && typeof this.ws === 'object') state().internal.add(this.ws);
        return orig.apply(this, args);
      },
  );
}

function patchNamespaceClass(cls: any): void {
  patchMethod(
    cls?.prototype,
    '_add',
    (orig) =>
      function (this: any, ...args: any[]) {
        const io = this?.server;
        if (io && typeof io === 'object' && !state().seen.has(io)) reportSio(io);
        return orig.apply(this, args);
      },
  );
}

function onWsExports(exp: any): void {
  const cls = exp?.WebSocketServer ?? exp?.Server;
  patchWsClass(cls);
  const p = proxify(cls, reportWs);
  for (const key of ['WebSocketServer', 'Server']) {
    if (exp?.[key] === cls) exp[key] = p;
  }
}

function onSocketIoExports(exp: any): any {
  patchNamespaceClass(exp?.Namespace);
  const p = proxify(exp?.Server, reportSio) as AnyClass;
  if (typeof exp === 'function') {
    // `require('socket.io')(httpServer)`: the factory news the unpatched class inside.
    const factory = Object.assign(
      (srv?: unknown, opts?: unknown) => new (p as any)(srv, opts),
      exp,
    );
    factory.Server = p;
    return factory;
  }
  if (exp && typeof exp === 'object' && 'Server' in exp) exp.Server = p;
  return exp;
}

const WS_FILE = /[\\/]node_modules[\\/]ws[\\/]lib[\\/]websocket-server\.js$/;
const ENGINE_FILE = /[\\/]node_modules[\\/]engine\.io[\\/]build[\\/]server\.js$/;
const NAMESPACE_FILE = /[\\/]node_modules[\\/]socket\.io[\\/]dist[\\/]namespace\.js$/;

const kLoader = Symbol.for('tidewatch.register.loader');

/**
 * Registers import-in-the-middle's loader once per process, for `import`ed modules; only
 * `ws`, `socket.io` and `engine.io` are wrapped, so the rest of the app loads untouched.
 * Affects modules imported afterwards.
 */
export function registerImportHook(): void {
  const g = globalThis as { [kLoader]?: boolean };
  if (g[kLoader]) return;
  g[kLoader] = true;
  // tsup shims import.meta.url in the CommonJS build.
  register('import-in-the-middle/hook.mjs', import.meta.url, {
    data: { include: ['ws', 'socket.io', 'engine.io'] },
  });
}

/** Patches the prototypes of modules loaded before the hooks (net 2). */
function patchLoaded(): void {
  const cache = createRequire(`${process.cwd()}/`).cache;
  for (const [file, mod] of Object.entries(cache)) {
    const exp = mod?.exports;
    if (WS_FILE.test(file)) patchWsClass(exp);
    else if (ENGINE_FILE.test(file)) patchEngineClass(exp?.Server);
    else if (NAMESPACE_FILE.test(file)) patchNamespaceClass(exp?.Namespace);
  }
}

/**
 * Installs the module hooks once per process and adds `consumer`, which is first handed
 * every server already found. Returns a function that removes the consumer (the hooks stay:
 * unpatching classes the app holds would change them under its feet).
 */
export function addServerConsumer(consumer: ServerConsumer): () => void {
  const st = state();
  if (!st.installed) {
    st.installed = true;
    patchLoaded();
    // `import '@tidewatch/middleware/register'` at the top of an ESM app runs after the
    // app's other static imports were loaded (not yet run), past the hooks: look again once
    // the app's first synchronous run is over, before any upgrade can arrive.
    setImmediate(patchLoaded).unref();
    const names = ['ws', 'socket.io', 'engine.io'];
    const onModule = (exp: any, name: string) => {
      try {
        if (name === 'ws') onWsExports(exp);
        else if (name === 'engine.io') patchEngineClass(exp?.Server);
        else if (name === 'socket.io') return onSocketIoExports(exp);
      } catch {
        // Never break the app's import over instrumentation.
      }
      return exp;
    };
    st.hooks.push(new RequireHook(names, { internals: false }, onModule));
    st.hooks.push(new ImportHook(names, { internals: false }, onModule));
  }
  st.consumers.add(consumer);
  for (const kind of ['ws', 'sio'] as const) {
    for (const ref of [...st.known[kind]]) {
      const server = ref.deref();
      if (server === undefined) st.known[kind].delete(ref);
      else deliver(consumer, kind, server);
    }
  }
  return () => {
    st.consumers.delete(consumer);
  };
}

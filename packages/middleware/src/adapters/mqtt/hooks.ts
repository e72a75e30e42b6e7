import type { Instrumentation, Method } from '../../internal/instrumentation.js';

/**
 * Wraps a hook that aedes keeps as an own property of the broker (`preConnect`,
 * `authorizeForward`, `published`) and looks up on every call. aedes' documentation has
 * applications assign these after creating the broker (`broker.authenticate = fn`), possibly
 * after instrumenting it, so the property becomes an accessor: reading it gives the wrapper
 * of whatever was assigned last, and detaching turns it back into a plain property holding
 * the last assigned function. A property that is not an own, configurable data property is
 * wrapped the ordinary way ({@link Patches.wrap}).
 *
 * `make` builds the wrapper around one function; it runs again for each new assignment, and
 * its wrapper must pass straight through once the instrumentation is detached.
 * @returns whether the property is hooked.
 */
export function hookProperty(
  inst: Instrumentation,
  obj: object,
  name: string,
  make: (original: Method) => Method,
): boolean {
  if (!inst.active) return false;
  const desc = Object.getOwnPropertyDescriptor(obj, name);
  if (desc === undefined || !('value' in desc) || desc.configurable !== true) {
    return inst.patches.wrap(obj, name, make);
  }
  if (typeof desc.value !== 'function') return false;
  let current: unknown = desc.value;
  let wrapped: unknown = make(desc.value as Method);
  const get = () => wrapped;
  const set = (value: unknown) => {
    current = value;
    wrapped = typeof value === 'function' && inst.active ? make(value as Method) : value;
  };
  Object.defineProperty(obj, name, {
    get,
    set,
    configurable: true,
    enumerable: desc.enumerable ?? true,
  });
  fastProperties(obj);
  inst.patches.defer(() => {
    if (Object.getOwnPropertyDescriptor(obj, name)?.get !== get) return;
    Object.defineProperty(obj, name, {
      value: current,
      writable: true,
      configurable: true,
      enumerable: desc.enumerable ?? true,
    });
    fastProperties(obj);
  });
  return true;
}

/**
 * Turning a data property that is not the object's last one into an accessor (or back) makes
 * V8 give up the object's hidden class for a hash table ("dictionary mode"): every property
 * aedes reads on its broker, several times per message, then costs a hash lookup, and the
 * hooks' getters are no longer inlined. V8 gives an object back its fast properties when it
 * serves as a prototype in a lookup through an inline cache, which a loop long enough to get
 * its function inline caches does (a lookup of a name nobody defines runs no getter). Only
 * ever a matter of speed: an engine that does otherwise loses nothing else.
 */
function fastProperties(obj: object): void {
  const probe = Object.create(obj) as Record<string, unknown>;
  let found: unknown;
  for (let i = 0; i < 256 && found === undefined; i++) found = probe[PROBE];
}

const PROBE = '__tidewatchFastPropertiesProbe';

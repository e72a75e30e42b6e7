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
  inst.patches.defer(() => {
    if (Object.getOwnPropertyDescriptor(obj, name)?.get !== get) return;
    Object.defineProperty(obj, name, {
      value: current,
      writable: true,
      configurable: true,
      enumerable: desc.enumerable ?? true,
    });
  });
  return true;
}

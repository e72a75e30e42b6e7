/**
 * Patch mode (opt-in, off by default): writes the sidecar's dynamic threshold into the actual
 * load's target, the HPA's External metric `averageValue` or the ScaledObject trigger's
 * `metadata.threshold`, for clusters that cannot run the predicted trigger. The two-trigger
 * setup needs no write access and stays the default.
 *
 * Each apply reads the object (RBAC `get`), finds the metric or trigger by name, clamps the
 * requested value (see {@link clampThreshold}), skips values within the hysteresis of the live
 * one, and writes a JSON patch (RBAC `patch`, `application/json-patch+json`): a merge patch
 * would replace the whole `metrics`/`triggers` list (custom resources have no strategic merge),
 * while a JSON patch addresses one field. Its `test` ops check the name at the index, the
 * value that was read and `metadata.resourceVersion`, so a write that raced another writer
 * (a second predictor, `kubectl edit`, a GitOps sync) fails with 422 (or 409) instead of
 * overwriting it; the patcher counts that as a conflict and retries from a fresh read.
 * `@kubernetes/client-node` is imported on the first apply only.
 */
import type { KubeConfig } from '@kubernetes/client-node';
import {
  ACTUAL_EXTERNAL_METRIC,
  ACTUAL_TRIGGER,
  formatQuantity,
  PATCH_KINDS,
  type PatchKind,
} from '@tidewatch/conventions';
import { z } from 'zod';
import { checkField, k8sName, must, num, text } from '../fields.js';
import { type ClampOptions, clampThreshold } from './clamp.js';
import { locate, parseThreshold, resourceVersionOf } from './locate.js';

export { type ClampOptions, clampThreshold } from './clamp.js';

/** Options of {@link createPatcher}. */
export interface PatcherOptions {
  /** `scaledobject` (KEDA, patch the ScaledObject: KEDA owns its HPA) or `hpa`. */
  kind: PatchKind;
  namespace: string;
  /** The ScaledObject's or HPA's name. */
  name: string;
  /**
   * ScaledObject: the trigger's `name` (default `actual-load`); HPA: the External metric's
   * `metric.name` (default `tidewatch_actual_load`), as deploy/ generates them.
   */
  triggerName?: string;
  /** Relative change below which a write is skipped, [0, 1). Default 0.05. */
  hysteresis?: number;
  /** Per request (read, write), ms. Default 10000. */
  timeoutMs?: number;
  /** `fieldManager` of the writes (shows in managedFields). Default `tidewatch-predictor`. */
  fieldManager?: string;
  /**
   * The static threshold (capacity x target utilisation, load per replica) the object carries
   * without prediction. Given, every apply is clamped by {@link clampThreshold}; omitted, the
   * requested value is written as is (a caller that clamps itself).
   */
  staticThreshold?: number;
  /** Largest change per apply as a share of `staticThreshold`, (0, 1]. Default 0.2. */
  maxStepFraction?: number;
  /** Lowest threshold as a share of `staticThreshold`, (0, 1]. Default 0.5. */
  floorFraction?: number;
  /**
   * Lower only when the request is at least this share below `staticThreshold`, [0, 1): the
   * forecast must exceed the actual load by 1 / (1 - margin). Default 0.1.
   */
  lowerMargin?: number;
  /** Fresh reads after a conflict (409/422) before the apply fails. Default 2. */
  maxConflictRetries?: number;
  /** A loaded KubeConfig. Default: `loadFromDefault()` (in a pod: the service account). */
  kubeConfig?: KubeConfig;
}

/** Where an apply failed. */
export type PatchStep = 'validate' | 'load' | 'get' | 'locate' | 'patch';

/** What one {@link Patcher.apply} did. Never thrown: failures are results too. */
export type PatchResult = (
  | { status: 'patched'; value: number; written: string; previous: number | null }
  | { status: 'skipped'; value: number; current: number; change: number }
  | {
      status: 'failed';
      value: number;
      step: PatchStep;
      /** HTTP status from the API server, when it answered. */
      httpStatus?: number;
      /** The RBAC verb that was refused (on a 403). */
      missingVerb?: 'get' | 'patch';
      message: string;
    }
) & {
  /** The value asked for, when clamping changed it (`value` is what was aimed at). */
  requested?: number;
  /** Writes rejected as lost updates (409/422) during this apply, when any. */
  conflicts?: number;
};

/** Running counts since creation. */
export interface PatcherStats {
  patches: number;
  skips: number;
  failures: number;
  /** Writes rejected as lost updates (409/422), each followed by a fresh read or a failure. */
  conflicts: number;
  lastError: string | undefined;
}

/** Writes a threshold; see {@link createPatcher}. */
export interface Patcher {
  /** `scaledobjects.keda.sh realtime/realtime-server trigger actual-load`, for logs. */
  readonly target: string;
  /**
   * Writes `threshold` (load per replica, > 0; rounded to 0.001) unless the live value is within
   * the hysteresis. Calls run one at a time in call order. Never rejects.
   */
  apply(threshold: number): Promise<PatchResult>;
  stats(): PatcherStats;
}

/** One JSON patch (RFC 6902) operation. */
interface PatchOp {
  op: 'test' | 'replace' | 'add';
  path: string;
  value: unknown;
}

/** The kind-specific part: how to read, find the field, format and write. */
interface Access {
  read(): Promise<unknown>;
  write(ops: PatchOp[]): Promise<unknown>;
}

/**
 * Creates a patcher. Nothing is loaded or contacted until the first {@link Patcher.apply}.
 * @throws TypeError naming the option when an option is invalid (the only time it throws).
 */
export function createPatcher(options: PatcherOptions): Patcher {
  const invalid = (message: string) => new TypeError(message);
  const kind = checkField(
    z.enum(PATCH_KINDS, must('"hpa" or "scaledobject"')),
    options.kind,
    'patch: kind',
    invalid,
  );
  const namespace = checkField(k8sName(), options.namespace, 'patch: namespace', invalid);
  const name = checkField(k8sName(), options.name, 'patch: name', invalid);
  const triggerName = checkField(
    text(),
    options.triggerName ?? (kind === 'scaledobject' ? ACTUAL_TRIGGER : ACTUAL_EXTERNAL_METRIC),
    'patch: triggerName',
    invalid,
  );
  const hysteresis = checkField(
    z
      .number(must('a number in [0, 1)'))
      .min(0, must('a number in [0, 1)'))
      .lt(1, must('a number in [0, 1)')),
    options.hysteresis ?? 0.05,
    'patch: hysteresis',
    invalid,
  );
  const timeoutMs = checkField(num(0), options.timeoutMs ?? 10_000, 'patch: timeoutMs', invalid);
  const fieldManager = options.fieldManager ?? 'tidewatch-predictor';
  const share = (field: string, value: number, lowOpen: boolean) =>
    checkField(
      lowOpen
        ? z
            .number(must('a number in (0, 1]'))
            .gt(0, must('a number in (0, 1]'))
            .max(1, must('a number in (0, 1]'))
        : z
            .number(must('a number in [0, 1)'))
            .min(0, must('a number in [0, 1)'))
            .lt(1, must('a number in [0, 1)')),
      value,
      `patch: ${field}`,
      invalid,
    );
  const staticThreshold =
    options.staticThreshold === undefined
      ? undefined
      : checkField(num(0), options.staticThreshold, 'patch: staticThreshold', invalid);
  const clamp: ClampOptions | undefined =
    staticThreshold === undefined
      ? undefined
      : {
          staticThreshold,
          maxStepFraction: share('maxStepFraction', options.maxStepFraction ?? 0.2, true),
          floorFraction: share('floorFraction', options.floorFraction ?? 0.5, true),
          lowerMargin: share('lowerMargin', options.lowerMargin ?? 0.1, false),
        };
  const maxConflictRetries = checkField(
    z
      .number()
      .int(must('an integer 0..10'))
      .min(0, must('an integer 0..10'))
      .max(10, must('an integer 0..10')),
    options.maxConflictRetries ?? 2,
    'patch: maxConflictRetries',
    invalid,
  );

  const resource =
    kind === 'scaledobject' ? 'scaledobjects.keda.sh' : 'horizontalpodautoscalers.autoscaling';
  const target = `${resource} ${namespace}/${name} ${kind === 'scaledobject' ? 'trigger' : 'external metric'} ${triggerName}`;
  const stats: PatcherStats = {
    patches: 0,
    skips: 0,
    failures: 0,
    conflicts: 0,
    lastError: undefined,
  };
  let access: Promise<Access> | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const load = async (): Promise<Access> => {
    const k8s = await loadClient();
    let kc = options.kubeConfig;
    if (!kc) {
      kc = new k8s.KubeConfig();
      kc.loadFromDefault();
    }
    const jsonPatch = k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.JsonPatch);
    if (kind === 'hpa') {
      const api = kc.makeApiClient(k8s.AutoscalingV2Api);
      return {
        read: () => api.readNamespacedHorizontalPodAutoscaler({ name, namespace }),
        write: (body) =>
          api.patchNamespacedHorizontalPodAutoscaler(
            { name, namespace, body, fieldManager },
            jsonPatch,
          ),
      };
    }
    const api = kc.makeApiClient(k8s.CustomObjectsApi);
    const ref = { group: 'keda.sh', version: 'v1alpha1', namespace, plural: 'scaledobjects', name };
    return {
      read: () => api.getNamespacedCustomObject(ref),
      write: (body) => api.patchNamespacedCustomObject({ ...ref, body, fieldManager }, jsonPatch),
    };
  };

  const run = async (threshold: number): Promise<PatchResult> => {
    const value = Math.round(threshold * 1000) / 1000;
    const fail = (
      step: PatchStep,
      message: string,
      extra: Partial<PatchResult> = {},
    ): PatchResult => {
      stats.failures++;
      stats.lastError = message;
      return { status: 'failed', value, step, message, ...extra } as PatchResult;
    };
    if (!(Number.isFinite(threshold) && value > 0))
      return fail('validate', `threshold must be a number >= 0.001, got ${String(threshold)}`);
    let api: Access;
    try {
      access ??= load();
      api = await access;
    } catch (error) {
      access = undefined; // retried on the next apply
      return fail(
        'load',
        `cannot load @kubernetes/client-node or the kubeconfig: ${errorText(error)}`,
      );
    }
    let conflicts = 0;
    const extra = (): { conflicts?: number } => (conflicts > 0 ? { conflicts } : {});
    for (;;) {
      let object: unknown;
      try {
        object = await withTimeout(api.read(), timeoutMs);
      } catch (error) {
        const [message, more] = describe(error, 'get');
        return fail('get', message, { ...more, ...extra() });
      }
      const found = locate(kind, object, triggerName);
      if (typeof found === 'string')
        return fail('locate', `${resource} ${namespace}/${name}: ${found}`, extra());
      const current =
        found.current === undefined ? Number.NaN : parseThreshold(kind, found.current);
      const live = Number.isFinite(current) && current > 0 ? current : undefined;
      const aim = clamp ? clampThreshold(value, live, clamp) : value;
      const clamped: { requested?: number } = aim !== value ? { requested: value } : {};
      if (live !== undefined) {
        const change = Math.abs(aim - live) / live;
        if (change < hysteresis) {
          stats.skips++;
          return { status: 'skipped', value: aim, current: live, change, ...clamped, ...extra() };
        }
      }
      const written = kind === 'hpa' ? formatQuantity(aim) : String(aim);
      const ops: PatchOp[] = [{ op: 'test', path: found.namePath, value: triggerName }];
      // The value that was read, and the object's version: either changed means someone else
      // wrote since the read, and this write must not silently undo it.
      if (found.current !== undefined)
        ops.push({ op: 'test', path: found.valuePath, value: found.raw });
      const rv = resourceVersionOf(object);
      if (rv !== undefined) ops.push({ op: 'test', path: '/metadata/resourceVersion', value: rv });
      ops.push({
        op: found.current === undefined ? 'add' : 'replace',
        path: found.valuePath,
        value: written,
      });
      try {
        await withTimeout(api.write(ops), timeoutMs);
      } catch (error) {
        const [message, more] = describe(error, 'patch');
        const status = (more as { httpStatus?: number }).httpStatus;
        if (status === 409 || status === 422) {
          conflicts++;
          stats.conflicts++;
          if (conflicts <= maxConflictRetries) continue; // a fresh read, then a new decision
        }
        return fail('patch', message, { ...more, ...extra() });
      }
      stats.patches++;
      return {
        status: 'patched',
        value: aim,
        written,
        previous: live ?? null,
        ...clamped,
        ...extra(),
      };
    }
  };

  function describe(
    error: unknown,
    verb: 'get' | 'patch',
  ): [string, { httpStatus?: number; missingVerb?: 'get' | 'patch' }] {
    const code = (error as { code?: unknown }).code;
    const httpStatus = typeof code === 'number' && code >= 100 && code < 600 ? code : undefined;
    const what = `${verb} ${resource} ${namespace}/${name}`;
    if (httpStatus === 403)
      return [
        `${what}: forbidden (403): RBAC verb "${verb}" on ${resource} "${name}" is missing for this service account (see deploy/rbac-patch-mode.yaml)`,
        { httpStatus, missingVerb: verb },
      ];
    if (httpStatus === 404) return [`${what}: not found (404)`, { httpStatus }];
    if (httpStatus === 409 || httpStatus === 422)
      return [
        `${what}: rejected (${httpStatus}): the object changed since it was read (another writer); retried ${maxConflictRetries} times from a fresh read, the next apply tries again`,
        { httpStatus },
      ];
    const prefix = httpStatus ? `HTTP ${httpStatus}: ` : '';
    return [`${what}: ${prefix}${errorText(error)}`, httpStatus ? { httpStatus } : {}];
  }

  return {
    target,
    apply(threshold) {
      const result = queue.then(() => run(threshold));
      queue = result.catch(() => undefined);
      return result;
    },
    stats: () => ({ ...stats }),
  };
}

/** The first line of an error's message (ApiException messages carry the whole body). */
function errorText(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.split('\n')[0] ?? message;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * The Kubernetes client, an optional peer dependency (57 MB): only patch mode needs it, so it
 * is loaded on the first apply and a missing install says what to do.
 */
async function loadClient(): Promise<typeof import('@kubernetes/client-node')> {
  try {
    return await import('@kubernetes/client-node');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') throw error;
    throw new Error(
      'patch mode needs the optional peer dependency @kubernetes/client-node: npm install @kubernetes/client-node',
    );
  }
}

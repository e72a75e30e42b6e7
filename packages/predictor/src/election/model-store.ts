/**
 * The fitted model outlives pods in a ConfigMap (`election.modelConfigMap`): the leader writes
 * it after every training, a new leader reads it when it takes over and forecasts at once
 * instead of retraining. The history does not live here: Prometheus is the history of record
 * (the prometheus source backfills a new pod), and followers collect it too.
 *
 * Encoding: the model file's JSON (../serve/model-file.ts) in `data["model.json"]` while it is
 * small enough to read with kubectl, gzip in `binaryData["model.json.gz"]` above
 * {@link COMPRESS_ABOVE_BYTES}. A ConfigMap holds at most 1 MiB (the API server refuses more):
 * a model whose encoding exceeds {@link MAX_MODEL_BYTES} is refused before any request, the
 * previous ConfigMap stays, and the caller counts a persist error.
 *
 * Fencing: the leader annotates the ConfigMap with the Lease epoch it holds
 * (`leaseTransitions` when it took the lease); a writer whose epoch is older than the stored
 * one does not overwrite it, and every write carries the `resourceVersion` it read (409 when
 * another replica wrote in between).
 */
import { gunzipSync, gzipSync } from 'node:zlib';
import { modelText, parseSavedModel, type SavedModel } from '../serve/model-file.js';
import { type KubeApi, statusMessage } from './kube-api.js';

/** Above this many bytes of JSON the model is stored gzipped. */
export const COMPRESS_ABOVE_BYTES = 256 * 1024;
/** Most bytes of stored model a ConfigMap may carry (1 MiB limit minus room for metadata). */
export const MAX_MODEL_BYTES = 1_000_000;
/** Annotation: the Lease epoch (`leaseTransitions`) of the leader that wrote the model. */
export const EPOCH_ANNOTATION = 'tidewatch.io/leader-epoch';
/** Annotation: the identity of the leader that wrote the model. */
export const WRITER_ANNOTATION = 'tidewatch.io/written-by';

/** The ConfigMap content of a model. */
export interface EncodedModel {
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  /** Bytes stored (JSON, or gzip before base64), what the 1 MiB limit counts. */
  bytes: number;
  /** Bytes of the JSON before compression. */
  jsonBytes: number;
}

/** Encodes `model` for a ConfigMap (see the module comment). */
export function encodeModel(model: SavedModel): EncodedModel {
  const text = modelText(model);
  const jsonBytes = Buffer.byteLength(text);
  if (jsonBytes <= COMPRESS_ABOVE_BYTES)
    return { data: { 'model.json': text }, bytes: jsonBytes, jsonBytes };
  const gz = gzipSync(text, { level: 9 });
  return { binaryData: { 'model.json.gz': gz.toString('base64') }, bytes: gz.length, jsonBytes };
}

/**
 * The model in a ConfigMap object, or `undefined` when it holds none.
 * @throws Error saying why the stored model cannot be used.
 */
export function decodeModel(object: unknown, where: string): SavedModel | undefined {
  const o = object as { data?: Record<string, unknown>; binaryData?: Record<string, unknown> };
  const json = o?.data?.['model.json'];
  if (typeof json === 'string') return parseSavedModel(json, where);
  const gz = o?.binaryData?.['model.json.gz'];
  if (typeof gz !== 'string') return undefined;
  let text: string;
  try {
    text = gunzipSync(Buffer.from(gz, 'base64')).toString('utf8');
  } catch (error) {
    throw new Error(`${where}: model.json.gz is not gzip: ${(error as Error).message}`);
  }
  return parseSavedModel(text, where);
}

/** What a {@link ModelStore.save} did. */
export type SaveOutcome =
  | { status: 'saved'; bytes: number; jsonBytes: number }
  /** Not written, on purpose (a newer leader's model is there): not an error. */
  | { status: 'skipped'; reason: string }
  | { status: 'failed'; reason: string };

/** Reads and writes the model ConfigMap. */
export interface ModelStore {
  /** `namespace/name`, for logs. */
  readonly describe: string;
  /**
   * The stored model, `undefined` when there is no ConfigMap or no model in it.
   * @throws Error when the API server fails or the stored model is unusable.
   */
  load(): Promise<SavedModel | undefined>;
  /** Writes `model` as the leader of `epoch`. Never rejects. */
  save(model: SavedModel, writer: { identity: string; epoch: number }): Promise<SaveOutcome>;
}

/** Creates the store of ConfigMap `name` in `namespace`; requests wait at most `timeoutMs`. */
export function createModelStore(
  api: KubeApi,
  namespace: string,
  name: string,
  timeoutMs: number,
): ModelStore {
  const collection = `/api/v1/namespaces/${encodeURIComponent(namespace)}/configmaps`;
  const path = `${collection}/${encodeURIComponent(name)}`;
  const describe = `${namespace}/${name}`;
  const epochOf = (object: unknown): number => {
    const v = (object as { metadata?: { annotations?: Record<string, unknown> } })?.metadata
      ?.annotations?.[EPOCH_ANNOTATION];
    const n = typeof v === 'string' ? Number(v) : Number.NaN;
    return Number.isInteger(n) ? n : -1;
  };

  return {
    describe,
    async load() {
      const r = await api.request('GET', path, { timeoutMs });
      if (r.status === 404) return undefined;
      if (r.status !== 200) throw new Error(`GET configmap ${describe}: ${statusMessage(r)}`);
      return decodeModel(r.body, `configmap ${describe}`);
    },
    async save(model, writer) {
      const encoded = encodeModel(model);
      if (encoded.bytes > MAX_MODEL_BYTES)
        return {
          status: 'failed',
          reason: `model ${model.model} is ${encoded.bytes} bytes compressed (${encoded.jsonBytes} as JSON), over the ${MAX_MODEL_BYTES}-byte limit of a ConfigMap: not stored (a new leader will retrain)`,
        };
      try {
        const current = await api.request('GET', path, { timeoutMs });
        if (current.status !== 200 && current.status !== 404)
          return {
            status: 'failed',
            reason: `GET configmap ${describe}: ${statusMessage(current)}`,
          };
        const exists = current.status === 200;
        if (exists && epochOf(current.body) > writer.epoch)
          return {
            status: 'skipped',
            reason: `a newer leader (epoch ${epochOf(current.body)} > ${writer.epoch}) wrote it`,
          };
        const rv = exists
          ? (current.body as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion
          : undefined;
        const body = {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: {
            name,
            namespace,
            ...(rv ? { resourceVersion: rv } : {}),
            annotations: {
              [EPOCH_ANNOTATION]: String(writer.epoch),
              [WRITER_ANNOTATION]: writer.identity,
            },
          },
          ...(encoded.data ? { data: encoded.data } : {}),
          ...(encoded.binaryData ? { binaryData: encoded.binaryData } : {}),
        };
        const written = exists
          ? await api.request('PUT', path, { body, timeoutMs })
          : await api.request('POST', collection, { body, timeoutMs });
        if (written.status === 409)
          return { status: 'skipped', reason: `another replica wrote ${describe} meanwhile` };
        if (written.status < 200 || written.status >= 300)
          return {
            status: 'failed',
            reason: `${exists ? 'PUT' : 'POST'} configmap ${describe}: ${statusMessage(written)}`,
          };
        return { status: 'saved', bytes: encoded.bytes, jsonBytes: encoded.jsonBytes };
      } catch (error) {
        return { status: 'failed', reason: (error as Error).message };
      }
    },
  };
}

/**
 * Reading a Prometheus HTTP API answer, shared by the range source and the instant queries:
 * 5xx and 429 are transient (retried by the caller's policy), anything else that is not a
 * JSON `status: "success"` answer of the expected result type is a source error quoting
 * Prometheus' own message.
 */
import { SourceError } from './errors.js';
import { retryAfterMs, snippet, TransientSourceError } from './http.js';

/** What {@link readPrometheusAnswer} needs of a finished response. */
export interface PrometheusResponse {
  status: number;
  text: string;
  headers: { get(name: string): string | null };
}

/**
 * The `data.result` array of a successful answer of `resultType`.
 * @param name the source's name, for the errors.
 * @param query the PromQL sent, quoted in the errors.
 * @throws TransientSourceError on 5xx or 429; SourceError on garbage, a failed query or
 *   another result type.
 */
export function readPrometheusAnswer(
  name: string,
  query: string,
  res: PrometheusResponse,
  resultType: 'vector' | 'matrix',
): unknown[] {
  const { status, text } = res;
  if (status >= 500 || status === 429)
    throw new TransientSourceError(name, `HTTP ${status}: ${snippet(text)}`, {
      status,
      retryAfterMs: retryAfterMs(res.headers.get('retry-after')),
    });
  let body: {
    status?: unknown;
    errorType?: unknown;
    error?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  try {
    body = JSON.parse(text);
  } catch {
    throw new SourceError(name, `garbage response (HTTP ${status}, not JSON): ${snippet(text)}`, {
      status,
    });
  }
  if (status >= 400 || body?.status !== 'success') {
    const why =
      typeof body?.error === 'string'
        ? `${String(body.errorType ?? 'error')}: ${body.error}`
        : `status ${JSON.stringify(body?.status)}`;
    throw new SourceError(name, `query ${JSON.stringify(query)} failed (HTTP ${status}): ${why}`, {
      status,
    });
  }
  const data = body.data ?? {};
  if (data.resultType !== resultType || !Array.isArray(data.result))
    throw new SourceError(
      name,
      `query ${JSON.stringify(query)}: expected a ${resultType} result, got ${JSON.stringify(data.resultType)}`,
    );
  return data.result;
}

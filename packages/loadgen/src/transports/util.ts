/** Small helpers the transports share. */

/** A copy of `url` with `token` as the `token` query parameter (browsers cannot set headers). */
export function withToken(url: URL, token: string | undefined): URL {
  const u = new URL(url.href);
  if (token !== undefined) u.searchParams.set('token', token);
  return u;
}

/** The handshake headers: the configured ones plus `Authorization: Bearer <token>`. */
export function authHeaders(
  headers: Record<string, string>,
  token: string | undefined,
): Record<string, string> {
  return token === undefined ? { ...headers } : { ...headers, authorization: `Bearer ${token}` };
}

/** `Unexpected server response: 401` (ws) and similar messages carry the HTTP status. */
const STATUS = /Unexpected server response: (\d{3})/;

/**
 * The failure reason and HTTP status of a connect error: `http-401` with status 401 for a
 * refused handshake, the errno code (`ECONNREFUSED`) for socket errors, `timeout` for a
 * handshake that took too long, else `error`.
 */
export function failureOf(err: unknown): { reason: string; status: number } {
  const e = err as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : '';
  const m = STATUS.exec(message);
  if (m !== null) return { reason: `http-${m[1]}`, status: Number(m[1]) };
  if (/timed out|timeout/i.test(message)) return { reason: 'timeout', status: 0 };
  if (typeof e?.code === 'string' && /^E[A-Z0-9_]+$/.test(e.code)) {
    return { reason: e.code, status: 0 };
  }
  return { reason: 'error', status: 0 };
}

/**
 * The sequence number written at `pos` (the digits after `"id":"<cid>-`), or 0 when the
 * digits are not followed by the closing quote (another client whose id extends ours).
 */
export function ownSeqAt(data: Uint8Array | string, pos: number): number {
  let seq = 0;
  const str = typeof data === 'string';
  for (let i = pos; i < data.length; i++) {
    const c = str ? (data as string).charCodeAt(i) : (data as Uint8Array)[i]!;
    if (c >= 48 && c <= 57) seq = seq * 10 + (c - 48);
    else return c === 34 && i > pos ? seq : 0;
  }
  return 0;
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local HTTP server started by {@link startHttpServer}; dispose (or `close()`) to stop it. */
export interface HttpServerHandle extends AsyncDisposable {
  readonly server: http.Server;
  readonly port: number;
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** Closes every connection and the listening socket; idempotent. */
  close(): Promise<void>;
}

/**
 * Starts an HTTP server on 127.0.0.1 (any free port, or `port`) answering with `handler`,
 * and resolves once it listens. A stand-in API, an exporter, an impostor on a port.
 *
 * @param handler - The request listener; without one every request gets a 404.
 * @param port - A fixed port, e.g. to come back on the same one. Default 0 (any free port).
 * @returns The server, its port and base URL, and a close that drops open connections.
 */
export async function startHttpServer(
  handler: http.RequestListener = (_req, res) => res.writeHead(404).end(),
  port = 0,
): Promise<HttpServerHandle> {
  const server = http.createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closing;
  };
  return {
    server,
    port: bound,
    url: `http://127.0.0.1:${bound}`,
    close,
    [Symbol.asyncDispose]: close,
  };
}

import net from 'node:net';

/**
 * Finds a TCP port that is free right now by listening on port 0 and closing again.
 *
 * Another process may take the port between this call and its use, so callers that start a
 * server on it must be ready to retry with a fresh port (as `startPrometheus` does).
 *
 * @param host - The interface to probe; defaults to `127.0.0.1`.
 * @returns A port number in the ephemeral range.
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`freePort: unexpected server address ${String(address)}`));
        return;
      }
      const { port } = address;
      server.close((err) => (err ? reject(err) : resolve(port)));
    });
  });
}

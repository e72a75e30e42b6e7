import { describe, expect, it, vi } from 'vitest';
import { startHttpServer, startPrometheus } from '../../src/index.js';

// Hand out ports that are already taken before falling back to real free ports, to exercise
// startPrometheus's retry when the port is grabbed between freePort() and Prometheus's bind.
const taken = vi.hoisted(() => ({ ports: [] as number[] }));
vi.mock('../../src/free-port.js', async (importOriginal) => {
  const real = await importOriginal<typeof import('../../src/free-port.js')>();
  return { freePort: vi.fn(async () => taken.ports.shift() ?? real.freePort()) };
});

/** A server that answers 200 `{}` to everything, like an impostor on the port. */
const occupyPort = () => startHttpServer((_req, res) => res.writeHead(200).end('{}'));

describe('startPrometheus port retry', () => {
  it('retries on a fresh port when the chosen one is taken', async () => {
    await using occupied = await occupyPort();
    taken.ports = [occupied.port, occupied.port];
    await using prom = await startPrometheus();
    expect(taken.ports).toEqual([]);
    expect(prom.port).not.toBe(occupied.port);
    expect(await prom.query('vector(1)')).toMatchObject([{ value: 1 }]);
  });

  it('gives up after the first attempt and three retries, with the log in the error', async () => {
    await using occupied = await occupyPort();
    taken.ports = Array.from({ length: 4 }, () => occupied.port);
    await expect(startPrometheus()).rejects.toThrow(
      /exited \(code 1\) before it was ready \(port taken 4 times\)[\s\S]*address already in use/,
    );
    expect(taken.ports).toEqual([]);
  });
});

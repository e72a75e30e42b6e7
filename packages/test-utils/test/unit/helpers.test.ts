import { describe, expect, it } from 'vitest';
import {
  hourlyCsv,
  parseSamples,
  startHttpServer,
  sumSamples,
  withTimeout,
} from '../../src/index.js';

const TEXT = [
  '# HELP demo_total Demo.',
  '# TYPE demo_total counter',
  'demo_total{kind="a",zone="x"} 2',
  'demo_total{kind="b",zone="x"} 3',
  'demo_total_other 100',
  'demo 7',
  '',
].join('\n');

describe('parseSamples / sumSamples', () => {
  it('keys samples as written and sums by labels', () => {
    expect(parseSamples(TEXT)).toEqual(
      new Map([
        ['demo_total{kind="a",zone="x"}', 2],
        ['demo_total{kind="b",zone="x"}', 3],
        ['demo_total_other', 100],
        ['demo', 7],
      ]),
    );
    expect(sumSamples(TEXT, 'demo_total')).toBe(5);
    expect(sumSamples(TEXT, 'demo_total', { kind: 'b' })).toBe(3);
    expect(sumSamples(TEXT, 'demo_total', { kind: 'c' })).toBe(0);
    expect(sumSamples(TEXT, 'demo')).toBe(7);
  });
});

describe('hourlyCsv', () => {
  it('writes hourly rows from 2001-01-01', () => {
    expect(hourlyCsv([5, 6])).toBe(
      'timestamp,value\n2001-01-01T00:00:00.000Z,5\n2001-01-01T01:00:00.000Z,6\n',
    );
  });
});

describe('withTimeout', () => {
  it('passes a settled value through and names what timed out', async () => {
    expect(await withTimeout(Promise.resolve(4), 1000)).toBe(4);
    await expect(withTimeout(new Promise(() => {}), 50, 'the exit')).rejects.toThrow(
      'Timed out after 50 ms waiting for the exit',
    );
    await expect(withTimeout(Promise.reject(new Error('boom')), 1000)).rejects.toThrow('boom');
  });
});

describe('startHttpServer', () => {
  it('serves on loopback, 404 by default, and closes open connections', async () => {
    const server = await startHttpServer();
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect((await fetch(`${server.url}/x`)).status).toBe(404);
    await server.close();
    await server.close();
    await expect(fetch(`${server.url}/x`)).rejects.toThrow();
  });
});

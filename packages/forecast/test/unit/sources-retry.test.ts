import { describe, expect, it } from 'vitest';
import { backoffDelay, withRetry } from '../../src/sources/retry.js';

const transient = (message: string, retryAfterMs?: number) =>
  Object.assign(new Error(message), { retryable: true, retryAfterMs });

describe('backoff with full jitter', () => {
  it('draws from [0, min(max, base * 2^(attempt-1)))', () => {
    expect([1, 2, 3, 4, 5, 6].map((a) => backoffDelay(a, 100, 1000, () => 0.999_999))).toEqual([
      99, 199, 399, 799, 999, 999,
    ]);
    expect(backoffDelay(3, 100, 1000, () => 0)).toBe(0);
    expect(backoffDelay(3, 100, 1000, () => 0.5)).toBe(200);
  });
});

describe('withRetry', () => {
  it('retries retryable errors, waiting the jittered delays', async () => {
    const delays: number[] = [];
    let calls = 0;
    const result = await withRetry(
      async () => {
        calls++;
        if (calls < 3) throw transient(`fail ${calls}`);
        return 'ok';
      },
      { baseDelayMs: 10, random: () => 0.5, onRetry: (_e, _n, d) => delays.push(d) },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(delays).toEqual([5, 10]);
  });

  it('does not retry other errors', async () => {
    let calls = 0;
    await expect(
      withRetry(async () => {
        calls++;
        throw new Error('bad query');
      }),
    ).rejects.toThrow('bad query');
    expect(calls).toBe(1);
  });

  it('gives up after `retries` and throws the last error', async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw transient(`fail ${calls}`);
        },
        { retries: 2, baseDelayMs: 1 },
      ),
    ).rejects.toThrow('fail 3');
    expect(calls).toBe(3);
  });

  it('honours a Retry-After longer than the jitter, capped at maxDelayMs', async () => {
    const delays: number[] = [];
    let calls = 0;
    await withRetry(
      async () => {
        if (++calls === 1) throw transient('busy', 30);
        if (calls === 2) throw transient('busy', 10_000);
      },
      { baseDelayMs: 1, maxDelayMs: 40, random: () => 0, onRetry: (_e, _n, d) => delays.push(d) },
    );
    expect(delays).toEqual([30, 40]);
  });

  it('an abort stops the wait and rejects with the reason', async () => {
    const controller = new AbortController();
    const pending = withRetry(
      async () => {
        throw transient('down');
      },
      { baseDelayMs: 60_000, random: () => 0.99, signal: controller.signal },
    );
    setTimeout(() => controller.abort(new Error('stopped')), 20);
    await expect(pending).rejects.toThrow('stopped');
  });
});

import { describe, expect, it } from 'vitest';
import {
  labelKey,
  parseExposition,
  parseFloatText,
  pickMetric,
} from '../../src/sources/exposition.js';

const TEXT = `# HELP realtime_connections Open connections.
# TYPE realtime_connections gauge
realtime_connections{transport="websocket",state="active"} 3
realtime_connections{transport="websocket",state="idle"} 2
# HELP realtime_messages_total Messages.
# TYPE realtime_messages_total counter
realtime_messages_total{direction="in"} 7
realtime_messages_total{direction="out"} 9
# TYPE realtime_message_size_bytes histogram
realtime_message_size_bytes_bucket{direction="in",le="10"} 1
realtime_message_size_bytes_bucket{direction="in",le="+Inf"} 4
realtime_message_size_bytes_sum{direction="in"} 30
realtime_message_size_bytes_count{direction="in"} 4
realtime_message_size_bytes_bucket{direction="out",le="10"} 5
realtime_message_size_bytes_bucket{direction="out",le="+Inf"} 6
realtime_message_size_bytes_sum{direction="out"} 40
realtime_message_size_bytes_count{direction="out"} 6
# TYPE rpc_seconds summary
rpc_seconds{quantile="0.5"} 0.1
rpc_seconds_sum 12
rpc_seconds_count 40
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1700000000
# TYPE realtime_connections_closed_total counter
untyped_thing 5`;

describe('pickMetric', () => {
  it('picks a gauge and filters by labels', () => {
    const all = pickMetric(TEXT, 'realtime_connections');
    expect(all).toEqual({
      type: 'gauge',
      samples: [
        { labels: { transport: 'websocket', state: 'active' }, value: 3 },
        { labels: { transport: 'websocket', state: 'idle' }, value: 2 },
      ],
      startTimeSeconds: 1_700_000_000,
    });
    const active = pickMetric(TEXT, 'realtime_connections', { state: 'active' });
    expect(active instanceof Error ? active : active.samples.map((s) => s.value)).toEqual([3]);
  });

  it('a labelled histogram gives the _count of each label set (the npm parser alone drops them)', () => {
    const picked = pickMetric(TEXT, 'realtime_message_size_bytes');
    expect(picked).toEqual({
      type: 'histogram',
      samples: [
        { labels: { direction: 'in' }, value: 4 },
        { labels: { direction: 'out' }, value: 6 },
      ],
      startTimeSeconds: 1_700_000_000,
    });
  });

  it('a summary gives its _count', () => {
    const picked = pickMetric(TEXT, 'rpc_seconds');
    expect(picked instanceof Error ? picked : picked.samples).toEqual([{ labels: {}, value: 40 }]);
  });

  it('a declared family without samples gives no samples, not an error', () => {
    expect(pickMetric(TEXT, 'realtime_connections_closed_total')).toEqual({
      type: 'counter',
      samples: [],
      startTimeSeconds: 1_700_000_000,
    });
  });

  it('reads the last family even without a final newline', () => {
    const picked = pickMetric(TEXT, 'untyped_thing');
    expect(picked instanceof Error ? picked : picked.samples).toEqual([{ labels: {}, value: 5 }]);
  });

  it.each([
    [
      '<html><body>Bad gateway</body></html>',
      'not the Prometheus text format: line 1: "<html><body>Bad gateway</body></html>"',
    ],
    ['{"status":"ok"}', 'not the Prometheus text format: line 1: "{\\"status\\":\\"ok\\"}"'],
    ['realtime_connections 1\ngarbage', 'not the Prometheus text format: line 2: "garbage"'],
    ['realtime_connections 1\ngarbage x', 'malformed sample of garbage: value "x"'],
    ['realtime_connections abc', 'malformed sample of realtime_connections: value "abc"'],
    [
      'realtime_connections{a=b} 1',
      'not the Prometheus text format: Encountered invalid line: realtime_connections{a=b} 1',
    ],
    ['', 'metric realtime_connections not found'],
    ['other_metric 1\n', 'metric realtime_connections not found'],
  ])('rejects %j', (text, message) => {
    const picked = pickMetric(text, 'realtime_connections');
    expect(picked).toBeInstanceOf(Error);
    expect((picked as Error).message).toBe(message);
  });
});

describe('helpers', () => {
  it('parseFloatText', () => {
    expect(['1', '-2.5e3', '+Inf', '-Inf', 'NaN', 'x', ''].map(parseFloatText)).toEqual([
      1,
      -2500,
      Infinity,
      -Infinity,
      NaN,
      undefined,
      undefined,
    ]);
  });

  it('labelKey ignores label order', () => {
    expect(labelKey({ b: '1', a: '2' })).toBe(labelKey({ a: '2', b: '1' }));
  });
});

describe('duplicates: refused, never summed', () => {
  const GAUGE = '# TYPE realtime_connections gauge\nrealtime_connections{state="active"} 3\n';
  it.each([
    [
      'the family twice, in two # TYPE blocks',
      `${GAUGE}# TYPE other gauge\nother 1\n${GAUGE}`,
      'duplicate metric family realtime_connections',
    ],
    [
      "a # TYPE after the family's samples",
      'realtime_connections{state="idle"} 1\n# TYPE realtime_connections gauge\nrealtime_connections 2\n',
      'duplicate metric family realtime_connections',
    ],
    [
      'one series twice, adjacent (the parser kept only the last)',
      `${GAUGE}realtime_connections{state="active"} 3\n`,
      'duplicate series realtime_connections{state="active"}',
    ],
    [
      'one series twice, labels in another order',
      '# TYPE realtime_connections gauge\nrealtime_connections{a="1",b="2"} 3\nrealtime_connections{c="x"} 1\nrealtime_connections{b="2",a="1"} 3\n',
      'duplicate series realtime_connections{b="2",a="1"}',
    ],
    [
      'an unlabelled series twice',
      'realtime_connections 3\nrealtime_connections 3\n',
      'duplicate series realtime_connections',
    ],
    [
      "a histogram's _count series twice",
      '# TYPE realtime_connections histogram\nrealtime_connections_count{a="1"} 4\nrealtime_connections_sum{a="1"} 9\nrealtime_connections_count{a="1"} 4\n',
      'duplicate series realtime_connections_count{a="1"}',
    ],
  ])('%s', (_what, text, message) => {
    const picked = pickMetric(text, 'realtime_connections');
    expect(picked).toBeInstanceOf(Error);
    expect((picked as Error).message).toBe(message);
  });

  it('escapes count: a\\"b and a"b are different values, equal escapes the same', () => {
    const distinct = 'm{v="a\\\\\\"b"} 1\nm{v="a\\"b"} 1\n';
    expect(pickMetric(distinct, 'm')).not.toBeInstanceOf(Error);
    expect((pickMetric('m{v="a\\nb"} 1\nm{v="a\\nb"} 1\n', 'm') as Error).message).toBe(
      'duplicate series m{v="a\\nb"}',
    );
  });

  it('a duplicate elsewhere does not stop another metric from being picked', () => {
    const text = `${GAUGE}other 1\nother 1\n`;
    expect(pickMetric(text, 'realtime_connections')).toEqual({
      type: 'gauge',
      samples: [{ labels: { state: 'active' }, value: 3 }],
      startTimeSeconds: undefined,
    });
    expect((pickMetric(text, 'other') as Error).message).toBe('duplicate series other');
  });

  it('process_start_time_seconds twice with two values: the start time is unknown', () => {
    const parsed = parseExposition(
      'process_start_time_seconds{a="1"} 100\nprocess_start_time_seconds{a="2"} 200\n',
    );
    expect(parsed instanceof Error ? parsed : parsed.startTimeSeconds).toBeUndefined();
    const same = parseExposition('process_start_time_seconds 100\n');
    expect(same instanceof Error ? same : same.startTimeSeconds).toBe(100);
  });
});

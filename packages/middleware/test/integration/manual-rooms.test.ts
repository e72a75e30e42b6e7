import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { OTHER_ROOM } from '@tidewatch/conventions';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import { connect, type EchoServer, type Family, startEchoServer, until } from '../helpers.js';

class TestReader extends MetricReader {
  protected async onForceFlush(): Promise<void> {}
  protected async onShutdown(): Promise<void> {}
}

let srv: EchoServer | undefined;
let provider: MeterProvider | undefined;
afterEach(async () => {
  await srv?.close();
  await provider?.shutdown();
  srv = undefined;
  provider = undefined;
});

function byRoom(fams: Family[], name: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of fams.find((f) => f.name === name)?.metrics ?? []) {
    expect(m.labels?.transport).toBe('websocket');
    out.set(m.labels!.room!, Number(m.value));
  }
  return out;
}

describe('manual rooms API on a real ws server', () => {
  it('counts what the app reports, the same in /metrics and in OpenTelemetry', async () => {
    const reader = new TestReader();
    provider = new MeterProvider({ readers: [reader] });
    srv = await startEchoServer({ metrics: { meterProvider: provider, rooms: { topK: 2 } } });
    const rooms = srv.metrics.rooms('websocket');
    // The app's protocol: "join:<room>", "leave:<room>", anything else is a message to the
    // socket's last joined room.
    srv.wss.on('connection', (ws) => {
      let current = '';
      ws.on('message', (data) => {
        const text = data.toString();
        if (text.startsWith('join:')) {
          current = text.slice(5);
          rooms.join(current);
        } else if (text.startsWith('leave:')) rooms.leave(text.slice(6));
        else rooms.message(current);
      });
      ws.on('close', () => {
        if (current !== '') rooms.leave(current);
      });
    });
    const plan: Array<[string, number]> = [
      ['north', 12],
      ['south', 9],
      ['east', 4],
      ['west', 2],
    ];
    const clients: WebSocket[] = [];
    for (const [room, n] of plan) {
      const ws = await connect(`${srv.url}?id=${room}`);
      clients.push(ws);
      ws.send(`join:${room}`);
      // The echo server answers every frame: n + 1 echoes mean the server handled them all.
      let echoes = 0;
      const done = new Promise<void>((resolve) =>
        ws.on('message', () => {
          if (++echoes === n + 1) resolve();
        }),
      );
      for (let i = 0; i < n; i++) ws.send(`hello ${i}`);
      await done;
    }

    const fams = await srv.scrape();
    expect(byRoom(fams, 'realtime_room_messages_total')).toEqual(
      new Map([
        ['north', 12],
        ['south', 9],
        [OTHER_ROOM, 6],
      ]),
    );
    expect(byRoom(fams, 'realtime_room_members_current')).toEqual(
      new Map([
        ['north', 1],
        ['south', 1],
        [OTHER_ROOM, 2],
      ]),
    );

    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    const points = new Map<string, number>();
    for (const sm of resourceMetrics.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === 'realtime.server.room.messages')
          for (const p of m.dataPoints) points.set(String(p.attributes.room), p.value as number);
    expect(points).toEqual(
      new Map([
        ['north', 12],
        ['south', 9],
        [OTHER_ROOM, 6],
      ]),
    );

    // A client leaving takes its membership with it.
    clients[0]!.close();
    const s = srv;
    await until(
      'north has no member left',
      async () => byRoom(await s.scrape(), 'realtime_room_members_current').get('north') === 0,
    );
    expect(byRoom(await s.scrape(), 'realtime_room_members_current').get(OTHER_ROOM)).toBe(2);
  });
});

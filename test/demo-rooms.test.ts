/**
 * The demo's busiest rooms (issue 18): the chat server reports its rooms through tidewatch's
 * manual rooms API, so `/metrics` exports `realtime_room_messages_total{room}` and
 * `realtime_room_members_current{room}` for the top rooms, `/rooms/busiest` serves the same
 * figures as JSON, and the chat page (real Chromium) joins the busiest room and lists the
 * busiest rooms with their message rates. The chat server alone (examples/chat-server/
 * server.mjs) on 127.0.0.1 port 0, real ws clients; no sidecar, no load generator.
 */
import { type ChromiumHandle, launchChromium } from '@tidewatch/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';

interface ChatServer {
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}
interface Busiest {
  rooms: Array<{ room: string; messagesPerSecond: number; messages: number; members: number }>;
  other: { room: string; messagesPerSecond: number; messages: number; members: number };
}

// A computed specifier: the demo is plain JavaScript without type declarations.
const SERVER = new URL('../examples/chat-server/server.mjs', import.meta.url).href;
const TOKEN = 'rooms-test-token';

let chat: ChatServer;
let base = '';
let chromium: ChromiumHandle | undefined;
const sockets: WebSocket[] = [];

async function client(rooms: string[]): Promise<WebSocket> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/ws?token=${TOKEN}`);
  sockets.push(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  for (const room of rooms) ws.send(JSON.stringify({ type: 'join', room }));
  return ws;
}

/** Sends `n` messages to `room` from `ws` and waits until `ws` (a member) got them all back. */
async function say(ws: WebSocket, room: string, n: number): Promise<void> {
  let got = 0;
  const done = new Promise<void>((resolve) => {
    const on = (data: Buffer) => {
      if (JSON.parse(data.toString()).room === room && ++got === n) {
        ws.off('message', on);
        resolve();
      }
    };
    ws.on('message', on);
  });
  for (let i = 0; i < n; i++) {
    ws.send(JSON.stringify({ type: 'msg', room, id: `t-${i}`, t: Date.now(), text: `m${i}` }));
  }
  await done;
}

async function busiest(): Promise<Busiest> {
  const res = await fetch(`${base}/rooms/busiest?token=${TOKEN}`);
  expect(res.status).toBe(200);
  return (await res.json()) as Busiest;
}

beforeAll(async () => {
  const { createChatServer } = (await import(SERVER)) as {
    createChatServer: (o: { token: string }) => ChatServer;
  };
  chat = createChatServer({ token: TOKEN });
  base = `http://127.0.0.1:${await chat.listen(0, '127.0.0.1')}`;
  chromium = await launchChromium();
});

afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await chromium?.close();
  await chat?.close();
});

describe('demo: busiest rooms', () => {
  it('exports the busiest rooms with exact counts and members, in /metrics and /rooms/busiest', async () => {
    const a = await client(['busy']);
    const b = await client(['busy', 'quiet']);
    await client(['idle']);
    await say(a, 'busy', 30);
    await say(b, 'quiet', 5);

    const top = await busiest();
    expect(top.rooms.map((r) => [r.room, r.messages, r.members])).toEqual([
      ['busy', 30, 2],
      ['quiet', 5, 1],
    ]);
    expect(top.rooms[0]!.messagesPerSecond).toBeGreaterThan(top.rooms[1]!.messagesPerSecond);
    // `idle` has a member and no message: not busy, so it adds up in __other__.
    expect(top.other).toMatchObject({ room: '__other__', messages: 0, members: 1 });
    expect((await fetch(`${base}/rooms/busiest`)).status).toBe(401);

    const text = await (await fetch(`${base}/metrics`)).text();
    expect(text).toContain('realtime_room_messages_total{transport="custom",room="busy"} 30');
    expect(text).toContain('realtime_room_messages_total{transport="custom",room="quiet"} 5');
    expect(text).toContain('realtime_room_messages_total{transport="custom",room="__other__"} 0');
    expect(text).toContain('realtime_room_members_current{transport="custom",room="busy"} 2');
    expect(text).toContain('realtime_room_members_current{transport="custom",room="__other__"} 1');
  });

  it('the chat page joins the busiest room and lists the busiest rooms with their rates', async () => {
    const page = await (chromium as ChromiumHandle).browser.newPage();
    try {
      await page.goto(`${base}/?token=${TOKEN}`);
      await page.waitForFunction(
        () =>
          /^connected as .*, room busy$/.test(
            (globalThis as any).document.querySelector('#state')?.textContent ?? '',
          ),
        undefined,
        { timeout: 15_000 },
      );
      expect(await page.inputValue('#room')).toBe('busy');
      const rows = await page.$$eval('#busiest-rows tr', (trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
      expect(rows.map((r) => r[0])).toEqual(['busy', 'quiet', 'all other rooms']);
      expect(Number(rows[0]![1])).toBeGreaterThan(0);
      expect(rows.map((r) => r[2])).toEqual(['2', '1', '1']);

      // The page is a member of `busy` now: a message from another client reaches it.
      const ws = await client([]);
      const heard = `from a neighbour ${Date.now()}`;
      ws.send(JSON.stringify({ type: 'msg', room: 'busy', id: 'n-1', t: Date.now(), text: heard }));
      await page.waitForSelector(`#log li >> text=${heard}`, { timeout: 10_000 });
      // And the table follows: three members in `busy` at the next poll.
      await page.waitForFunction(
        () =>
          (globalThis as any).document.querySelector('#busiest-rows tr td:nth-child(3)')
            ?.textContent === '3',
        undefined,
        { timeout: 15_000 },
      );
    } finally {
      await page.close();
    }
  });
});

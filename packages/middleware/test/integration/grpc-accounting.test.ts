import * as grpc from '@grpc/grpc-js';
import { pollUntil } from '@tidewatch/test-utils';
import { afterEach, describe, expect, it } from 'vitest';
import {
  firstMessages,
  type GrpcRig,
  PATHS,
  type RigOptions,
  readAll,
  startGrpcRig,
  statusOf,
  watchMessage,
  wireSize,
} from '../fixtures/grpc-service.js';
import { type Family, histogram, value } from '../helpers.js';

const rigs: GrpcRig[] = [];
afterEach(async () => {
  for (const r of rigs.splice(0)) await r.close();
});

async function rig(opts: RigOptions): Promise<GrpcRig> {
  const r = await startGrpcRig(opts);
  rigs.push(r);
  return r;
}

const G = { transport: 'grpc' };
const closed = (fams: Family[], want: Record<string, string> = {}) =>
  value(fams, 'realtime_connections_closed_total', { ...G, ...want });

/** Scrapes until `closes` streams are counted closed; returns that scrape. */
function afterCloses(r: GrpcRig, closes: number): Promise<Family[]> {
  return pollUntil(
    () => r.scrape(),
    (f) => closed(f) === closes,
    { timeoutMs: 10_000, description: `${closes} gRPC stream closes counted` },
  );
}

// The interceptor sees messages before serialization; with this it measures what the
// fixture's codec would serialize, so both variants must show the same bytes.
const jsonBytes = { messageBytes: (m: unknown) => wireSize(m) };

describe.each([
  ['instrumentGrpc', { mode: 'instrument' } as const],
  ['grpcServerInterceptor', { mode: 'interceptor', interceptor: jsonBytes } as const],
])('%s', (_name, base: RigOptions) => {
  it('counts N server streams and N bidi streams with M messages each way, exactly', async () => {
    const r = await rig(base);
    const N = 3;
    const M = 4;
    const size = 40;
    // Bidi streams stay open until the client ends them: the gauges first.
    const chats = Array.from({ length: N }, () => r.client.chat());
    const sent = chats.map((_c, k) => Array.from({ length: M }, (_, j) => ({ k, j, text: 'hi' })));
    const echoed = chats.map((c, k) => {
      const got = firstMessages(c, M);
      for (const m of sent[k]!) c.write(m);
      return got;
    });
    expect(await Promise.all(echoed)).toEqual(sent);
    const mid = await r.scrape();
    expect(value(mid, 'realtime_connections', { ...G, endpoint: PATHS.chat })).toBe(N);
    expect(value(mid, 'realtime_handshakes_in_flight', G)).toBe(0);

    const requests = Array.from({ length: N }, (_, k) => ({
      count: M,
      size: size + k,
      after: 'end',
    }));
    const watched = await Promise.all(requests.map((q) => readAll(r.client.watch(q))));
    for (const [k, w] of watched.entries()) {
      expect(w.status.code).toBe(grpc.status.OK);
      expect(w.messages).toEqual(Array.from({ length: M }, (_, i) => watchMessage(i, size + k)));
    }
    const ends = chats.map((c) => statusOf(c));
    for (const c of chats) c.end();
    for (const s of await Promise.all(ends)) expect(s.code).toBe(grpc.status.OK);

    const f = await afterCloses(r, 2 * N);
    // A server stream ends when the server is done; a bidi stream here when the client
    // half-closed first and the server's OK only answered it.
    for (const [path, initiator] of [
      [PATHS.watch, 'server'],
      [PATHS.chat, 'client'],
    ] as const) {
      const ep = { ...G, endpoint: path };
      expect(value(f, 'realtime_connections_opened_total', ep)).toBe(N);
      expect(closed(f, { endpoint: path, reason: 'normal', initiator })).toBe(N);
      expect(
        histogram(f, 'realtime_handshake_duration_seconds', { ...ep, outcome: 'success' }).count,
      ).toBe(N);
    }
    expect(value(f, 'realtime_connections', G)).toBe(0);
    const msgs = (path: string, direction: string) =>
      value(f, 'realtime_messages_total', { ...G, endpoint: path, direction });
    const bytes = (path: string, direction: string) =>
      value(f, 'realtime_message_bytes_total', { ...G, endpoint: path, direction });
    expect(msgs(PATHS.watch, 'in')).toBe(N);
    expect(msgs(PATHS.watch, 'out')).toBe(N * M);
    expect(msgs(PATHS.chat, 'in')).toBe(N * M);
    expect(msgs(PATHS.chat, 'out')).toBe(N * M);
    const sum = (xs: unknown[]) => xs.reduce<number>((a, m) => a + wireSize(m), 0);
    expect(bytes(PATHS.watch, 'in')).toBe(sum(requests));
    expect(bytes(PATHS.watch, 'out')).toBe(sum(watched.flatMap((w) => w.messages)));
    expect(bytes(PATHS.chat, 'in')).toBe(sum(sent.flat()));
    expect(bytes(PATHS.chat, 'out')).toBe(sum(sent.flat()));
    expect(histogram(f, 'realtime_message_size_bytes', { ...G, direction: 'out' }).count).toBe(
      2 * N * M,
    );
    expect(value(f, 'realtime_instrumentation_errors_total')).toBe(0);
  });

  it('a bidi stream the server ends with OK before the client is done: normal, by the server', async () => {
    const r = await rig(base);
    const chat = r.client.chat();
    const status = statusOf(chat);
    chat.write({ bye: true });
    expect((await status).code).toBe(grpc.status.OK);
    chat.end();
    const f = await afterCloses(r, 1);
    expect(closed(f, { endpoint: PATHS.chat, reason: 'normal', initiator: 'server' })).toBe(1);
    expect(closed(f, { initiator: 'client' })).toBe(0);
  });

  it('leaves unary and client-streaming calls (RPCs) uncounted', async () => {
    const r = await rig(base);
    for (let i = 0; i < 3; i++) {
      const got = await new Promise((resolve, reject) =>
        r.client.get({ i }, (err: unknown, res: unknown) => (err ? reject(err) : resolve(res))),
      );
      expect(got).toEqual({ i });
    }
    const up = await new Promise((resolve, reject) => {
      const call = r.client.upload((err: unknown, res: unknown) =>
        err ? reject(err) : resolve(res),
      );
      for (let i = 0; i < 5; i++) call.write({ i });
      call.end();
    });
    expect(up).toEqual({ n: 5 });
    // One stream, so that the scrape shows that counting works at all.
    await readAll(r.client.watch({ count: 1, after: 'end' }));
    const f = await afterCloses(r, 1);
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(1);
    expect(value(f, 'realtime_messages_total', G)).toBe(2);
    const endpoints = f
      .flatMap((fam) => fam.metrics)
      .map((m) => m.labels?.endpoint)
      .filter((e) => e !== undefined);
    expect(endpoints).not.toContain(PATHS.get);
    expect(endpoints).not.toContain(PATHS.upload);
  });

  it('client cancel -> cancelled by the client; deadline -> deadline_exceeded', async () => {
    const r = await rig(base);
    const call = r.client.watch({ count: 2, after: 'hold' });
    await firstMessages(call, 2);
    const cancelled = statusOf(call);
    call.cancel();
    expect((await cancelled).code).toBe(grpc.status.CANCELLED);
    let f = await afterCloses(r, 1);
    expect(closed(f, { reason: 'cancelled', initiator: 'client' })).toBe(1);

    const late = r.client.watch({ count: 1, after: 'hold' }, { deadline: Date.now() + 400 });
    await firstMessages(late, 1);
    expect((await statusOf(late)).code).toBe(grpc.status.DEADLINE_EXCEEDED);
    f = await afterCloses(r, 2);
    expect(closed(f, { reason: 'deadline_exceeded', initiator: 'client' })).toBe(1);
    expect(value(f, 'realtime_errors_total', { ...G, type: 'deadline_exceeded' })).toBe(1);
    // A client cancel is not an error.
    expect(value(f, 'realtime_errors_total', G)).toBe(1);
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(2);
  });

  it('handler statuses after metadata: error, resource_exhausted, unavailable', async () => {
    const r = await rig(base);
    const cases = [
      [grpc.status.INTERNAL, 'error', 'internal'],
      [grpc.status.RESOURCE_EXHAUSTED, 'resource_exhausted', 'resource_exhausted'],
      [grpc.status.UNAVAILABLE, 'unavailable', 'unavailable'],
      [grpc.status.UNAUTHENTICATED, 'auth', 'unauthenticated'],
    ] as const;
    for (const [code] of cases) {
      const { messages, status } = await readAll(r.client.watch({ count: 2, after: 'fail', code }));
      expect(messages).toHaveLength(2);
      expect(status.code).toBe(code);
    }
    const f = await afterCloses(r, cases.length);
    for (const [, reason, type] of cases) {
      expect(closed(f, { endpoint: PATHS.watch, reason, initiator: 'server' })).toBe(1);
      expect(value(f, 'realtime_errors_total', { ...G, type })).toBe(1);
    }
    expect(
      histogram(f, 'realtime_handshake_duration_seconds', { ...G, outcome: 'success' }).count,
    ).toBe(cases.length);
  });

  it('a status before any metadata ends the handshake: auth -> rejected, other -> error', async () => {
    const r = await rig(base);
    const denied = [grpc.status.UNAUTHENTICATED, grpc.status.PERMISSION_DENIED];
    for (const code of denied) {
      const { status } = await readAll(r.client.watch({ count: 0, after: 'reject', code }));
      expect(status.code).toBe(code);
    }
    const { status } = await readAll(
      r.client.watch({ count: 0, after: 'reject', code: grpc.status.INTERNAL }),
    );
    expect(status.code).toBe(grpc.status.INTERNAL);
    const hs = (fams: Family[], outcome: string) =>
      histogram(fams, 'realtime_handshake_duration_seconds', { ...G, outcome }).count;
    const f = await pollUntil(
      () => r.scrape(),
      (x) => hs(x, 'rejected') + hs(x, 'error') === 3,
      { timeoutMs: 10_000, description: 'three handshake outcomes' },
    );
    expect(hs(f, 'rejected')).toBe(2);
    expect(hs(f, 'error')).toBe(1);
    expect(hs(f, 'success')).toBe(0);
    expect(value(f, 'realtime_connections_opened_total', G)).toBe(0);
    expect(closed(f)).toBe(0);
    expect(value(f, 'realtime_errors_total', { ...G, type: 'unauthenticated' })).toBe(1);
    expect(value(f, 'realtime_errors_total', { ...G, type: 'permission_denied' })).toBe(1);
    expect(value(f, 'realtime_errors_total', { ...G, type: 'internal' })).toBe(1);
    expect(value(f, 'realtime_handshakes_in_flight', G)).toBe(0);
  });

  it('a message over grpc.max_send_message_length closes the stream as message_too_big', async () => {
    const r = await rig({ ...base, server: { 'grpc.max_send_message_length': 100 } });
    const { messages, status } = await readAll(
      r.client.watch({ count: 3, size: 10, after: 'end' }),
    );
    expect(messages).toHaveLength(3);
    expect(status.code).toBe(grpc.status.OK);
    const big = await readAll(r.client.watch({ count: 2, size: 200, after: 'end' }));
    expect(big.status.code).toBe(grpc.status.RESOURCE_EXHAUSTED);
    const f = await afterCloses(r, 2);
    expect(closed(f, { reason: 'normal' })).toBe(1);
    // grpc-js sent the metadata before refusing the message: the handshake had succeeded.
    expect(closed(f, { reason: 'message_too_big', initiator: 'server' })).toBe(1);
    expect(value(f, 'realtime_errors_total', { ...G, type: 'resource_exhausted' })).toBe(1);
  });

  it('a throwing endpoint classifier counts one instrumentation error; calls still work', async () => {
    const r = await rig({
      ...base,
      grpc: {
        endpoint: () => {
          throw new Error('classifier bug');
        },
      },
    });
    for (let i = 0; i < 2; i++) {
      const w = await readAll(r.client.watch({ count: 2, after: 'end' }));
      expect(w.messages).toHaveLength(2);
      expect(w.status.code).toBe(grpc.status.OK);
    }
    const f = await afterCloses(r, 2);
    expect(value(f, 'realtime_instrumentation_errors_total', { site: 'classifier.endpoint' })).toBe(
      1,
    );
    expect(value(f, 'realtime_connections_opened_total', { ...G, endpoint: 'unknown' })).toBe(2);
    expect(
      value(f, 'realtime_messages_total', { ...G, endpoint: 'unknown', direction: 'out' }),
    ).toBe(4);
  });
});

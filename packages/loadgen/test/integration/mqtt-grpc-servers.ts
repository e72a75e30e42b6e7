/**
 * Real MQTT and gRPC servers on 127.0.0.1:0 for the integration tests: an aedes broker
 * (TCP, and WebSocket on `/mqtt`) and a grpc-js server with the loadgen's echo service.
 * Each counts, on the server side and independently of any instrumentation, what the
 * loadgen's expected counts claim. `instrument` lets a test attach the tidewatch adapter
 * (`instrumentAedes`, `instrumentGrpc`) before the server takes traffic.
 */
import http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { Aedes, type Client as AedesClient } from 'aedes';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { grpcEchoHandler, grpcEchoService } from '../../src/index.js';

/** What a server counted itself, in the catalogue's terms. */
export interface ServerSideCounts {
  /** Connections accepted (aedes `client`: CONNACK sent; gRPC: the handler started). */
  opened: number;
  /** Closed after a DISCONNECT (MQTT) / after the client ended its side, status OK (gRPC). */
  closedNormal: number;
  /** Closed without a DISCONNECT (MQTT) / cancelled by the client (gRPC). */
  closedAbnormal: number;
  /** Data messages in (client PUBLISH packets / stream messages) and their payload bytes. */
  in: number;
  bytesIn: number;
  /** Data messages out (deliveries to subscribers / echoes) and their payload bytes. */
  out: number;
  bytesOut: number;
  /** Open now. */
  open: number;
}

function newCounts(): ServerSideCounts {
  return {
    opened: 0,
    closedNormal: 0,
    closedAbnormal: 0,
    in: 0,
    bytesIn: 0,
    out: 0,
    bytesOut: 0,
    open: 0,
  };
}

/** A running aedes broker. */
export interface MqttTestServer {
  broker: Aedes;
  /** `mqtt://127.0.0.1:<port>` (TCP). */
  url: string;
  /** `ws://127.0.0.1:<port>/mqtt` (WebSocket). */
  wsUrl: string;
  counts: ServerSideCounts;
  /** Client ids of every CONNECT that reached the broker. */
  clientIds: string[];
  /** Client PUBLISH packets by QoS (index 0, 1, 2). */
  qosIn: [number, number, number];
  close(): Promise<void>;
}

/** Options of {@link startMqttServer}. */
export interface MqttServerOptions {
  /** Called with the broker before any client connects (attach instrumentation here). */
  instrument?: (broker: Aedes) => void;
  /** Refuse CONNECT with "not authorized" (CONNACK 5) unless the password is this. */
  password?: string;
}

/**
 * An aedes broker on a TCP port and a WebSocket port. Deliveries are counted in
 * `authorizeForward`, which aedes calls once per subscriber a PUBLISH is forwarded to.
 */
export async function startMqttServer(options: MqttServerOptions = {}): Promise<MqttTestServer> {
  const counts = newCounts();
  const clientIds: string[] = [];
  const qosIn: [number, number, number] = [0, 0, 0];
  const broker = await Aedes.createBroker({
    authenticate: (client, _username, password, done) => {
      clientIds.push(client.id);
      const want = options.password;
      if (want === undefined || password?.toString() === want) done(null, true);
      else done(Object.assign(new Error('not authorized'), { returnCode: 5 }), false);
    },
    authorizeForward: (_client, packet) => {
      if (!packet.topic.startsWith('$SYS')) {
        counts.out++;
        counts.bytesOut += packet.payload.length;
      }
      return packet;
    },
  });
  options.instrument?.(broker);
  broker.on('client', () => {
    counts.opened++;
    counts.open++;
  });
  broker.on('clientDisconnect', (client: AedesClient) => {
    counts.open--;
    // aedes sets _disconnected only when the client sent DISCONNECT (it then skips the will).
    if ((client as unknown as { _disconnected: boolean })._disconnected) counts.closedNormal++;
    else counts.closedAbnormal++;
  });
  broker.on('publish', (packet, client) => {
    if (client === null) return; // the broker's own $SYS messages
    counts.in++;
    counts.bytesIn += packet.payload.length;
    qosIn[packet.qos]++;
  });
  const tcp = net.createServer((socket) => broker.handle(socket));
  const web = http.createServer();
  const wss = new WebSocketServer({ server: web, path: '/mqtt' });
  wss.on('connection', (ws, req) => {
    broker.handle(createWebSocketStream(ws) as unknown as net.Socket, req);
  });
  await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
  await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
  return {
    broker,
    url: `mqtt://127.0.0.1:${(tcp.address() as AddressInfo).port}`,
    wsUrl: `ws://127.0.0.1:${(web.address() as AddressInfo).port}/mqtt`,
    counts,
    clientIds,
    qosIn,
    async close() {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      web.closeAllConnections();
      await new Promise<void>((resolve) => web.close(() => resolve()));
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

/** A running grpc-js server with the echo service. */
export interface GrpcTestServer {
  server: grpc.Server;
  /** `grpc://127.0.0.1:<port>`. */
  url: string;
  counts: ServerSideCounts;
  close(): Promise<void>;
}

/** Options of {@link startGrpcServer}. */
export interface GrpcServerOptions {
  /** Called with the server before `addService` (attach instrumentation here). */
  instrument?: (server: grpc.Server) => void;
  /** Leave the echo service out: every stream is answered UNIMPLEMENTED. */
  noService?: boolean;
}

/** The HTTP/2 reset code of a server call's stream (grpc-js internals, through any interceptors). */
function rstCodeOf(call: object): number | undefined {
  let c = (call as { call?: unknown }).call as
    | { stream?: { rstCode?: number }; nextCall?: unknown }
    | undefined;
  for (let i = 0; c !== undefined && i < 16; i++) {
    if (typeof c.stream?.rstCode === 'number') return c.stream.rstCode;
    c = c.nextCall as typeof c;
  }
  return undefined;
}

/**
 * A grpc-js server running {@link grpcEchoHandler}, wrapped to count what it received,
 * what it wrote and how each stream ended (closed after its OK status = normal, reset by
 * the client = abnormal).
 */
export async function startGrpcServer(options: GrpcServerOptions = {}): Promise<GrpcTestServer> {
  const counts = newCounts();
  const server = new grpc.Server();
  options.instrument?.(server);
  if (options.noService !== true) {
    server.addService(grpcEchoService, {
      stream: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
        counts.opened++;
        counts.open++;
        call.on('data', (m: Buffer) => {
          counts.in++;
          counts.bytesIn += m.length;
        });
        const write = call.write.bind(call);
        call.write = ((m: Buffer, ...rest: unknown[]) => {
          counts.out++;
          counts.bytesOut += m.length;
          return (write as (...a: unknown[]) => boolean)(m, ...rest);
        }) as typeof call.write;
        // grpc-js emits 'cancelled' when the HTTP/2 stream closes, after an OK status too,
        // and 'end' for a client's RST_STREAM as for its half-close: only the stream's reset
        // code tells them apart (0 after our status, 8 CANCEL when the client cancelled).
        call.on('cancelled', () => {
          counts.open--;
          if (rstCodeOf(call) === 0) counts.closedNormal++;
          else counts.closedAbnormal++;
        });
        grpcEchoHandler(call);
      },
    });
  }
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
      err ? reject(err) : resolve(p),
    ),
  );
  return {
    server,
    url: `grpc://127.0.0.1:${port}`,
    counts,
    async close() {
      server.forceShutdown();
    },
  };
}

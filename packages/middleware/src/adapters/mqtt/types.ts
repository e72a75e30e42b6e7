// The parts of aedes 1.x that tidewatch touches, typed structurally: the middleware imports
// nothing from aedes (an optional peer), and these few shapes are all it reads. Names follow
// aedes' own (lib/client.js, aedes.js); the underscored fields are aedes internals that
// carry no public equivalent (whether the client sent DISCONNECT, its packet parser).

/** An aedes delivery function (`client.deliver0`, `client.deliverQoS`). */
export type DeliverFn = (packet: PacketLike, cb: (...args: unknown[]) => void) => void;

/** A PUBLISH (or ack) packet as aedes hands it around. */
export interface PacketLike {
  readonly cmd?: string;
  readonly topic: string;
  readonly payload?: Uint8Array | string | null;
  readonly qos?: number;
  readonly retain?: boolean;
}

/** The CONNECT packet, as aedes passes it to `preConnect`. */
export interface ConnectPacketLike {
  readonly clientId?: string;
  readonly username?: string;
  readonly protocolVersion?: number;
  readonly keepalive?: number;
  readonly clean?: boolean;
}

/** The CONNACK aedes emits with `connackSent`. */
export interface ConnackLike {
  readonly returnCode?: number;
  readonly reasonCode?: number;
}

/** A listener-taking emitter with `prependListener` (a Node stream or EventEmitter). */
export interface ListenableLike {
  on(event: string, listener: (...args: any[]) => void): unknown;
  prependListener(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
}

/** An mqtt-packet parser: `error` holds what it last emitted as `'error'`, null before. */
export interface ParserLike {
  readonly error?: unknown;
}

/** The connection stream of an aedes client: a TCP/TLS socket or a WebSocket stream. */
export interface ConnLike extends ListenableLike {
  readonly destroyed?: boolean;
  /** Node >= 18: true once `'close'` was emitted. */
  readonly closed?: boolean;
  readonly readableEnded?: boolean;
  readonly writableLength?: number;
  /** Set by aedes: the client this stream belongs to. */
  readonly client?: unknown;
}

/** One subscription of a client (`client.subscriptions[filter]`). */
export interface SubscriptionLike {
  readonly qos?: number;
}

/** The parts of an aedes `Client` tidewatch reads. */
export interface AedesClientLike {
  /** The MQTT client id; null until the CONNECT is accepted. */
  readonly id: string | null;
  readonly conn: ConnLike;
  /** The HTTP upgrade request, when the app passed one to `broker.handle(stream, req)`. */
  readonly req?: unknown;
  readonly closed: boolean;
  readonly connected: boolean;
  readonly clean?: boolean;
  /** The will message the broker will publish if the client goes without DISCONNECT. */
  readonly will?: unknown;
  readonly subscriptions: Readonly<Record<string, SubscriptionLike | undefined>>;
  deliver0: DeliverFn;
  deliverQoS: DeliverFn;
  /** Set by aedes when the client sent DISCONNECT. */
  readonly _disconnected?: boolean;
  /** The client's mqtt-packet parser, which keeps the error of a malformed packet. */
  readonly _parser?: ParserLike;
}

/** The persistence of an aedes broker (aedes-persistence and its peers). */
export interface PersistenceLike {
  outgoingClearMessageId(client: unknown, packet: PacketLike): unknown;
  createRetainedStreamCombi?(patterns: string[]): AsyncIterable<PacketLike>;
}

/** The parts of an aedes 1.x `Aedes` broker tidewatch touches. */
export interface AedesLike {
  handle(conn: unknown, req?: unknown): unknown;
  on(event: string, listener: (...args: any[]) => void): unknown;
  removeListener(event: string, listener: (...args: any[]) => void): unknown;
  preConnect: (...args: any[]) => unknown;
  authorizeForward: (...args: any[]) => unknown;
  published: (...args: any[]) => unknown;
  /** aedes has it (it is how a takeover shows), though its published types leave it out. */
  registerClient?(client: AedesClientLike): void;
  close(cb?: () => void): void;
  readonly clients?: Readonly<Record<string, AedesClientLike | undefined>>;
  /** Set by `listen()` (which `Aedes.createBroker()` awaits). */
  readonly persistence?: PersistenceLike;
}

/** A bounded classifier of a connection: gets the aedes client and its CONNECT packet. */
export type ConnectionClassifier = (
  client: AedesClientLike,
  connect: ConnectPacketLike | undefined,
) => string;

/** A bounded classifier of a topic filter (`sensors/+/temp`, `$share/g/jobs/#`). */
export type TopicClassifier = (filter: string) => string;

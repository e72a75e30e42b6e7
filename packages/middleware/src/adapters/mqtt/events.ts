import type { Instrumentation, Method } from '../../internal/instrumentation.js';
import {
  connOf,
  countAck,
  countIn,
  countOut,
  endHandshake,
  HANDSHAKE,
  type MqttConn,
  type MqttContext,
  markClose,
  noteError,
  OPEN,
  PING_TIMEOUT,
  parserFailed,
  TAKEOVER,
} from './conn.js';
import { hookProperty } from './hooks.js';
import { connackOutcome, connackType, isNetworkType, mqttErrorType } from './reasons.js';
import type { RetainedTopics } from './topics.js';
import type {
  AedesClientLike,
  AedesLike,
  ConnackLike,
  ConnectPacketLike,
  PacketLike,
  PersistenceLike,
} from './types.js';

// Where tidewatch meets aedes 1.x (read from aedes.js, lib/client.js, lib/handlers/*):
// - `preConnect(client, packet, cb)`: the CONNECT arrived -> the handshake starts.
// - `connackSent(connack, client)`: the CONNACK is written -> success or refusal.
// - `published(packet, client, done)`: a PUBLISH was accepted (stored, routed) -> `in`.
// - `authorizeForward(client, packet)`: called once per delivery that passed aedes' own
//   filters, its result is what is written -> `out`.
// - `persistence.outgoingClearMessageId(client, ack)`: a PUBACK / PUBCOMP -> not in flight.
// - `registerClient(client)`: a client id already connected is taken over.
// - `close()`: the broker shuts down.
// The hot paths (published, authorizeForward) are wrappers, not listeners: a listener added
// to an event the application also listens to would copy the listener array per message.

/** What the adapter gives the broker hooks. */
export interface BrokerHooks {
  /** Starts tracking a client whose CONNECT arrived; undefined when it is tracked already. */
  begin(client: AedesClientLike, connect: ConnectPacketLike): MqttConn | undefined;
  readonly retained: RetainedTopics;
}

/** Installs every hook and listener on `broker`; all undone by `inst`'s detach. */
export function hookBroker(
  inst: Instrumentation,
  broker: AedesLike,
  ctx: MqttContext,
  hooks: BrokerHooks,
): void {
  const { recorder } = inst;
  const t = ctx.transport;
  let persistenceHooked = false;

  // The persistence exists once the broker listens (createBroker awaits it): hook it now,
  // or on the first CONNECT or publish of a broker instrumented before `listen()`.
  const hookPersistence = () => {
    const p = broker.persistence as PersistenceLike | undefined;
    if (persistenceHooked || p === undefined || p === null) return;
    persistenceHooked = true;
    inst.patches.wrap(
      p,
      'outgoingClearMessageId',
      (orig) =>
        function outgoingClearMessageId(this: unknown, client: unknown, packet: PacketLike) {
          if (inst.active) {
            const c = connOf(ctx, client);
            if (c !== undefined) countAck(c, packet?.cmd);
          }
          return orig.apply(this, arguments as unknown as unknown[]);
        },
    );
    hooks.retained.seed(
      p,
      () => inst.active,
      (err) => recorder.error('mqtt.retained', err),
    );
  };
  hookPersistence();

  hookProperty(
    inst,
    broker,
    'preConnect',
    (orig: Method) =>
      function preConnect(
        this: unknown,
        client: AedesClientLike,
        packet: ConnectPacketLike,
        callback: unknown,
      ) {
        let cb = callback;
        if (inst.active) {
          try {
            hookPersistence();
            const c = hooks.begin(client, packet);
            if (c !== undefined && typeof callback === 'function') {
              cb = watchRefusal(c, callback as (...args: unknown[]) => unknown);
            }
          } catch (err) {
            recorder.error('mqtt.connect', err);
          }
        }
        return orig.call(this, client, packet, cb);
      },
  );

  /** aedes goes on only for `(null, true)`; anything else refuses the CONNECT without a CONNACK. */
  const watchRefusal =
    (c: MqttConn, callback: (...args: unknown[]) => unknown) =>
    (err: unknown, ok: unknown, ...rest: unknown[]) => {
      if ((err !== null && err !== undefined) || ok !== true) {
        inst.guard('mqtt.connect', () => {
          if (c.phase !== HANDSHAKE) return;
          endHandshake(c, 'rejected');
          recorder.inc('errors', [t, 'preconnect_rejected']);
        });
      }
      return callback(err, ok, ...rest);
    };

  hookProperty(
    inst,
    broker,
    'published',
    (orig: Method) =>
      function published(this: unknown, packet: PacketLike, client: unknown) {
        if (inst.active) {
          try {
            if (packet?.retain === true) {
              hookPersistence();
              hooks.retained.track(packet);
            }
            if (client !== null && client !== undefined) {
              const c = connOf(ctx, client);
              if (c !== undefined && c.phase === OPEN) countIn(c, packet);
            }
          } catch (err) {
            recorder.error('mqtt.publish', err);
          }
        }
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );

  hookProperty(
    inst,
    broker,
    'authorizeForward',
    (orig: Method) =>
      function authorizeForward(this: unknown, client: unknown, packet: PacketLike) {
        const forwarded = orig.call(this, client, packet) as PacketLike | null;
        if (forwarded && inst.active) {
          const c = connOf(ctx, client);
          if (c !== undefined && c.phase === OPEN) {
            try {
              countOut(c, forwarded);
            } catch (err) {
              recorder.error('mqtt.deliver', err);
            }
          }
        }
        return forwarded;
      },
  );

  inst.patches.wrap(
    broker,
    'registerClient',
    (orig) =>
      function registerClient(this: AedesLike, client: AedesClientLike) {
        if (inst.active) {
          inst.guard('mqtt.takeover', () => {
            // [MQTT-3.1.4-2]: aedes closes the session holding this client id first.
            const id = client?.id;
            const old = typeof id === 'string' ? this.clients?.[id] : undefined;
            if (old === undefined || old === client) return;
            const c = connOf(ctx, old);
            if (c !== undefined) markClose(c, TAKEOVER);
          });
        }
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );

  inst.patches.wrap(
    broker,
    'close',
    (orig) =>
      function close(this: unknown) {
        if (inst.active) ctx.shuttingDown = true;
        return orig.apply(this, arguments as unknown as unknown[]);
      },
  );

  inst.patches.listen(broker, 'connackSent', (connack: ConnackLike, client: unknown) => {
    inst.guard('mqtt.connack', () => {
      const c = connOf(ctx, client);
      if (c === undefined || c.phase !== HANDSHAKE) return;
      const code = connack?.returnCode ?? connack?.reasonCode ?? 0;
      if (code === 0) {
        endHandshake(c, 'success');
        return;
      }
      endHandshake(c, connackOutcome(code));
      recorder.inc('errors', [t, connackType(code)]);
    });
  });

  const onError = (client: unknown, err: unknown) => {
    inst.guard('mqtt.error', () => {
      // A refusing CONNACK carries its code (`errorCode`) and was counted when it went out.
      if ((err as { errorCode?: unknown } | null)?.errorCode !== undefined) return;
      const c = connOf(ctx, client);
      if (c !== undefined && c.phase !== HANDSHAKE && c.phase !== OPEN) return;
      // A malformed packet: the parser's error, reported for the client that fed it.
      const type =
        c !== undefined && parserFailed(c.client) ? 'protocol_error' : mqttErrorType(err);
      // A keep-alive timeout is counted in heartbeats_total{outcome="timeout"}.
      if (type === 'keepalive_timeout') return;
      recorder.inc('errors', [t, type]);
      if (c === undefined) return;
      if (c.phase === HANDSHAKE) endHandshake(c, isNetworkType(type) ? 'aborted' : 'error');
      else noteError(c, type);
    });
  };
  inst.patches.listen(broker, 'clientError', onError);
  inst.patches.listen(broker, 'connectionError', onError);

  inst.patches.listen(broker, 'keepaliveTimeout', (client: unknown) => {
    inst.guard('mqtt.keepalive', () => {
      recorder.inc('heartbeats', [t, 'timeout']);
      const c = connOf(ctx, client);
      if (c === undefined) return;
      if (c.phase === HANDSHAKE) endHandshake(c, 'error');
      else markClose(c, PING_TIMEOUT);
    });
  });

  // aedes answers every PINGREQ with a PINGRESP and emits `ping` as it does.
  const pong = recorder.series('heartbeats', [t, 'pong']);
  inst.patches.listen(broker, 'ping', () => {
    pong.value++;
  });
}

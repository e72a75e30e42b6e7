import { classifierResult } from '../../internal/classifier.js';
import type { ValueSeries } from '../../internal/family.js';
import type { Recorder } from '../../internal/recorder.js';
import { defaultTopic, payloadLength } from './reasons.js';
import type { PacketLike, PersistenceLike, TopicClassifier } from './types.js';

/** Filters whose classification is remembered; past this, each scrape classifies again. */
const MAX_CACHED_FILTERS = 10_000;

/**
 * The `subscriptions{topic}` series of topic filters. A scrape counts every subscription of
 * every open connection, so a classifier of the application's runs once per distinct filter
 * (cached), not once per subscription per scrape; a throwing classifier is counted once per
 * filter at `classifier.topic` and labels it `unknown`. The default classifier is a few
 * string operations that never throw: it runs at each scrape, and only its results are
 * cached, so a broker whose clients each subscribe to a topic of their own (`devices/<id>/#`)
 * keeps no entry per filter, i.e. per connection.
 */
export class TopicSeries {
  /** Filter -> series (an application's classifier), or default label -> series. */
  private readonly cache = new Map<string, ValueSeries>();
  private readonly recorder: Recorder;
  private readonly transport: string;
  private readonly classify: TopicClassifier;
  private readonly byLabel: boolean;

  constructor(recorder: Recorder, transport: string, classify: TopicClassifier) {
    this.recorder = recorder;
    this.transport = transport;
    this.classify = classify;
    this.byLabel = classify === defaultTopic;
  }

  /** The gauge series a subscription to `filter` adds to. */
  of(filter: string): ValueSeries {
    const key = this.byLabel ? defaultTopic(filter) : filter;
    const found = this.cache.get(key);
    if (found !== undefined) return found;
    let label: string;
    try {
      label = classifierResult(
        this.recorder,
        this.byLabel ? key : this.classify(filter),
        'classifier.topic',
      );
    } catch (err) {
      this.recorder.error('classifier.topic', err);
      label = 'unknown';
    }
    const s = this.recorder.series('subscriptions', [this.transport, label]);
    if (this.cache.size < MAX_CACHED_FILTERS) this.cache.set(key, s);
    return s;
  }
}

/**
 * The topics the broker holds a retained message for, kept from the publishes it accepts
 * (an empty retained payload clears the topic, as in aedes-persistence), and seeded once
 * from the persistence for what was retained before tidewatch attached. One Set entry per
 * retained topic: the topic string is shared with the broker's own packet.
 */
export class RetainedTopics {
  private readonly topics = new Set<string>();
  /** Topics published while the seed streams in: the live state wins over the stored one. */
  private touched: Set<string> | null = null;

  get size(): number {
    return this.topics.size;
  }

  /** Applies an accepted publish (any publish: only retained ones change the set). */
  track(packet: PacketLike): void {
    const topic = packet.topic;
    if (typeof topic !== 'string') return;
    if (payloadLength(packet.payload) === 0) this.topics.delete(topic);
    else this.topics.add(topic);
    this.touched?.add(topic);
  }

  /**
   * Streams the retained messages the persistence already holds into the set, in the
   * background. Stops early when `active()` turns false (detached).
   * @param onError receives a failure of the stream; the set keeps what it read.
   */
  seed(persistence: PersistenceLike, active: () => boolean, onError: (err: unknown) => void): void {
    if (typeof persistence.createRetainedStreamCombi !== 'function') return;
    const touched = new Set<string>();
    this.touched = touched;
    const run = async () => {
      const stream = persistence.createRetainedStreamCombi!(['#']);
      for await (const packet of stream) {
        if (!active()) break;
        const topic = packet?.topic;
        if (typeof topic === 'string' && !touched.has(topic) && payloadLength(packet.payload) > 0) {
          this.topics.add(topic);
        }
      }
    };
    run()
      .catch(onError)
      .finally(() => {
        if (this.touched === touched) this.touched = null;
      });
  }
}

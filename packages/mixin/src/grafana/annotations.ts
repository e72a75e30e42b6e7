/**
 * Prometheus annotations for grafana-dash-gen (its own `Annotations.Graphite` only queries
 * Graphite). They plug into `Dashboard.addAnnotation()`, which only calls `generate()`.
 */
import { type AnnotationJson, PROMETHEUS_DATASOURCE } from './types.js';

/** Options of a {@link PromAnnotation}. */
export interface PromAnnotationOptions {
  name: string;
  /** PromQL; every sample that is present becomes an event. */
  expr: string;
  iconColor: string;
  /** Event title template, e.g. `Restart`. */
  titleFormat: string;
  /** Event text template, e.g. `{{instance}} restarted`. */
  textFormat: string;
  /** Labels turned into event tags, comma-separated. */
  tagKeys?: string;
  /** Resolution, e.g. `60s`. Default `60s`. */
  step?: string;
}

/** An annotation drawn from a PromQL query (restarts, scaling events). */
export class PromAnnotation {
  /** The options given at construction. */
  readonly opts: Readonly<PromAnnotationOptions>;

  /** @param opts - name, expression, colour, templates. */
  constructor(opts: PromAnnotationOptions) {
    this.opts = { ...opts };
  }

  /** The annotation's JSON. */
  generate(): AnnotationJson {
    const o = this.opts;
    return {
      datasource: { ...PROMETHEUS_DATASOURCE },
      enable: true,
      expr: o.expr,
      hide: false,
      iconColor: o.iconColor,
      name: o.name,
      step: o.step ?? '60s',
      tagKeys: o.tagKeys ?? '',
      textFormat: o.textFormat,
      titleFormat: o.titleFormat,
      useValueForTime: false,
    };
  }
}

/** Grafana's built-in "Annotations & Alerts" entry, which every saved dashboard carries. */
export function builtInAnnotation(): AnnotationJson {
  return {
    builtIn: 1,
    datasource: { type: 'grafana', uid: '-- Grafana --' },
    enable: true,
    hide: true,
    iconColor: 'rgba(0, 211, 255, 1)',
    name: 'Annotations & Alerts',
    type: 'dashboard',
  };
}

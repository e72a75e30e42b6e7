/**
 * Template variables for grafana-dash-gen. dash-gen's `Templates.Query` takes the datasource
 * as a name string and freezes a Graphite-shaped state (`refresh: false`, `current: {}`) that
 * the modern schema rejects; there is no `datasource`-type variable at all. These plug into
 * `Dashboard.addTemplate()`, which only calls `generate()`.
 */
import { PROMETHEUS_DATASOURCE, type VariableJson } from './types.js';

/** Placeholder Grafana's import dialog replaces with the datasource the user picks. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana variable syntax, not a JS template
export const DS_INPUT_PLACEHOLDER = '${DS_PROMETHEUS}';

/**
 * The `datasource` variable every panel's `${datasource}` resolves to. Its current value is
 * the `__inputs` placeholder, so a manual import asks for the Prometheus datasource; a
 * provisioned copy (no substitution) falls back to the default Prometheus datasource.
 */
export class DatasourceVariable {
  /** @param pluginId - the datasource type offered, default `prometheus`. */
  constructor(readonly pluginId = 'prometheus') {}

  /** The variable's JSON. */
  generate(): VariableJson {
    return {
      current: { selected: false, text: 'Prometheus', value: DS_INPUT_PLACEHOLDER },
      hide: 0,
      includeAll: false,
      label: 'Data source',
      multi: false,
      name: 'datasource',
      options: [],
      query: this.pluginId,
      refresh: 1,
      regex: '',
      skipUrlSync: false,
      type: 'datasource',
    };
  }
}

/** Options of a {@link PromQueryVariable}. */
export interface PromQueryVariableOptions {
  /** Variable name, e.g. `job`. */
  name: string;
  /** `label_values(metric{...}, label)`, evaluated by Grafana's Prometheus datasource. */
  query: string;
  /** Display label. Default: the name (dashboard-linter wants `job`/`instance` labelled so). */
  label?: string;
  /** Multi-select with an All option matching `.+`. Default true. */
  multi?: boolean;
}

/**
 * A Prometheus `query` variable: multi-select with All = `.+` and refreshed on every time
 * range change, as dashboard-linter's template-job/instance and on-time-change rules want.
 */
export class PromQueryVariable {
  /** The options given at construction. */
  readonly opts: Readonly<PromQueryVariableOptions>;

  /** @param opts - name, `label_values` query, label, multi. */
  constructor(opts: PromQueryVariableOptions) {
    if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(opts.name))
      throw new TypeError(`variable name must be an identifier, got "${opts.name}"`);
    this.opts = { ...opts };
  }

  /** The variable's JSON. */
  generate(): VariableJson {
    const multi = this.opts.multi ?? true;
    return {
      allValue: '.+',
      current: multi
        ? { selected: true, text: ['All'], value: ['$__all'] }
        : { selected: false, text: '', value: '' },
      datasource: { ...PROMETHEUS_DATASOURCE },
      definition: this.opts.query,
      hide: 0,
      includeAll: multi,
      label: this.opts.label ?? this.opts.name,
      multi,
      name: this.opts.name,
      options: [],
      query: {
        qryType: 1,
        query: this.opts.query,
        refId: 'PrometheusVariableQueryEditor-VariableQuery',
      },
      refresh: 2,
      regex: '',
      skipUrlSync: false,
      sort: 1,
      type: 'query',
    };
  }
}

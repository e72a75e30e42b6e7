import type { Model, ModelJSON } from './types.js';

/**
 * The mean of several models' forecasts. Combinations beat their members on most series
 * (the M4 lesson); which combination serves a series is for the backtest to say.
 */
export function ensembleModel(name: string, members: Model[]): Model {
  return {
    name,
    members,
    expensive: members.some((m) => m.expensive),
    minHistory: (ctx) => Math.max(...members.map((m) => m.minHistory(ctx))),
    fit(y, ctx) {
      for (const m of members) m.fit(y, ctx);
    },
    predict(y, h, ctx) {
      const out = new Float64Array(h);
      for (const m of members) {
        const f = m.predict(y, h, ctx);
        for (let k = 0; k < h; k++) out[k] = (out[k] as number) + (f[k] as number) / members.length;
      }
      return out;
    },
    toJSON: () => ({ kind: 'ensemble', name, params: members.map((m) => m.toJSON()) }),
  };
}

/** Rebuilds an ensemble; `load` rebuilds each member. */
export function loadEnsemble(json: ModelJSON, load: (member: ModelJSON) => Model): Model {
  return ensembleModel(json.name, (json.params as ModelJSON[]).map(load));
}

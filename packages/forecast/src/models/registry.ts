import { ensembleModel, loadEnsemble } from './ensemble.js';
import { holtWintersModel, loadHoltWinters } from './holt-winters.js';
import { type LstmOptions, loadLstm, lstmAvailable, lstmMissingError, lstmModel } from './lstm.js';
import { loadMstl, mstlModel } from './mstl.js';
import { loadSeasonal, naiveModel, seasonalNaiveModel, seasonalProfileModel } from './seasonal.js';
import type { Model, ModelJSON } from './types.js';

/** Names of the baselines every backtest reports. */
export const BASELINES = [
  'naive',
  'seasonal-naive-daily',
  'seasonal-naive-weekly',
  'holt-winters',
] as const;

/** Every model name the predictor knows, in the order reports list them. */
export const MODEL_NAMES = [
  ...BASELINES,
  'seasonal-profile',
  'lstm',
  'ensemble:holt-winters+seasonal-profile',
  'ensemble:holt-winters+seasonal-profile+lstm',
  'mstl',
  'ensemble:mstl+seasonal-profile',
] as const;

/** A model name. */
export type ModelName = (typeof MODEL_NAMES)[number];

/** Options passed to the models a registry builds. */
export interface ModelOptions {
  /** Holt-Winters season in steps (default: detected among a day and a week). */
  season?: number;
  lstm?: LstmOptions;
}

/**
 * The models that can run here: every one of {@link MODEL_NAMES}, but without the optional
 * peer dependency brain.js (and its peer gpu.js) those with the LSTM are left out.
 */
export function availableModelNames(): ModelName[] {
  const lstm = lstmAvailable();
  return MODEL_NAMES.filter((name) => lstm || !name.includes('lstm'));
}

/**
 * Fresh, unfitted instances of `names` (default: {@link availableModelNames}). Ensembles
 * share the instances of their members, so a backtest fits each model once per origin.
 * @throws Error naming an unknown model, or the install command when a model with the LSTM
 *   is asked for and brain.js is not installed.
 */
export function createModels(
  names: readonly string[] = availableModelNames(),
  options: ModelOptions = {},
): Model[] {
  for (const name of names) {
    if (!(MODEL_NAMES as readonly string[]).includes(name))
      throw new Error(`unknown model "${name}" (known: ${MODEL_NAMES.join(', ')})`);
  }
  if (names.some((name) => name.includes('lstm')) && !lstmAvailable()) throw lstmMissingError();
  const cache = new Map<string, Model>();
  const get = (name: string): Model => {
    let m = cache.get(name);
    if (m) return m;
    if (name === 'naive') m = naiveModel();
    else if (name === 'seasonal-naive-daily') m = seasonalNaiveModel('daily');
    else if (name === 'seasonal-naive-weekly') m = seasonalNaiveModel('weekly');
    else if (name === 'holt-winters')
      m = holtWintersModel(options.season ? { season: options.season } : {});
    else if (name === 'seasonal-profile') m = seasonalProfileModel();
    else if (name === 'lstm') m = lstmModel(options.lstm);
    else if (name === 'mstl') m = mstlModel();
    else m = ensembleModel(name, name.slice('ensemble:'.length).split('+').map(get));
    cache.set(name, m);
    return m;
  };
  return names.map(get);
}

/**
 * Rebuilds a fitted model from {@link Model.toJSON} output; forecasts are identical.
 * @throws Error for an unknown kind.
 */
export function loadModel(json: ModelJSON): Model {
  switch (json.kind) {
    case 'naive':
    case 'seasonal-naive':
    case 'seasonal-profile':
      return loadSeasonal(json);
    case 'holt-winters':
      return loadHoltWinters(json);
    case 'lstm':
      return loadLstm(json);
    case 'mstl':
      return loadMstl(json);
    case 'ensemble':
      return loadEnsemble(json, loadModel);
    default:
      throw new Error(`cannot load model of kind "${json.kind}"`);
  }
}

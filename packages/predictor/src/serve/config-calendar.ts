/**
 * `forecast.calendarFile`: the operator's calendar of known events (holidays, launches), read
 * and checked once when the configuration is validated, so a missing or broken file stops
 * the start with a line naming the field instead of failing every retrain. The parsed events
 * travel with the config to training (trainer.ts), which hands them to the worker.
 */
import { type Calendar, loadCalendarFile } from '@tidewatch/forecast';
import { shown } from '../fields.js';
import type { ConfigOverride } from './config-overrides.js';

/** The config path of the setting. */
export const CALENDAR_FIELD = 'forecast.calendarFile';

/**
 * Reads the calendar `file` names (relative paths from the working directory, as
 * `seed.file`). Returns one issue line instead of throwing, so the loader can report it
 * with the others, naming the origin of the path (the variable, or the config file):
 * `TIDEWATCH_FORECAST_CALENDAR_FILE: forecast.calendarFile cannot be read (no such file), got "x.csv"`,
 * `holidays.yaml: forecast.calendarFile h.csv is not a valid calendar: line 3: factor must be ...`.
 * @param applied - The overrides the merge set (the last one of the path names the origin).
 * @param fileLabel - How the config file is named when it gave the path.
 */
export function readCalendarSetting(
  file: string,
  applied: readonly ConfigOverride[],
  fileLabel: string,
): { calendar: Calendar } | { issue: string } {
  const from = [...applied]
    .reverse()
    .find((o) => o.path.length === 2 && o.path[0] === 'forecast' && o.path[1] === 'calendarFile');
  const origin = from?.origin ?? fileLabel;
  try {
    return { calendar: loadCalendarFile(file) };
  } catch (error) {
    const message = (error as Error).message;
    // The library's messages start with the path or say "cannot read calendar file <path>:";
    // the line below names the path once.
    const unread = `cannot read calendar file ${file}: `;
    const big = `calendar file ${file} is `;
    if (message.startsWith(unread))
      return {
        issue: `${origin}: ${CALENDAR_FIELD} cannot be read (${message.slice(unread.length)}), got ${shown(file)}`,
      };
    if (message.startsWith(big))
      return {
        issue: `${origin}: ${CALENDAR_FIELD} is too large: ${message.slice(big.length)}, got ${shown(file)}`,
      };
    const rest = message.startsWith(`${file}: `) ? message.slice(file.length + 2) : message;
    return { issue: `${origin}: ${CALENDAR_FIELD} ${file} is not a valid calendar: ${rest}` };
  }
}

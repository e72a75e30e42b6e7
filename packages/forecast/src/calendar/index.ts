/** The operator's calendar: parsing (./parse.ts) and event effects (./effects.ts). */
export {
  applyCalendar,
  type CalendarEffect,
  type CalendarEffectSource,
  type CalendarEffects,
  calendarAdjust,
  MAX_FACTOR,
  MAX_PROFILE,
  MIN_FACTOR,
} from './effects.js';
export {
  type Calendar,
  type CalendarEvent,
  loadCalendarFile,
  MAX_CALENDAR_BYTES,
  parseCalendar,
} from './parse.js';

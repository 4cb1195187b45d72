/**
 * Cron expressions in words for the common forms (`0 2 * * *` → `every day at 02:00`,
 * `0 *\/4 * * *` → `every 4 hours at :00`); undefined for the rest, which the UI shows as
 * written. Five fields, or six with a leading seconds field, and croner's @-macros.
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];
const DAY_NAMES: Record<string, number> = { SUN: 0, MON: 1, TUE: 2, WED: 3, THU: 4, FRI: 5, SAT: 6 };
const MONTH_NAMES: Record<string, number> = { JAN: 1, FEB: 2, MAR: 3, APR: 4, MAY: 5, JUN: 6, JUL: 7, AUG: 8, SEP: 9, OCT: 10, NOV: 11, DEC: 12 };

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const isAny = (f: string): boolean => f === '*' || f === '?';
const pad = (n: number): string => String(n).padStart(2, '0');

/** `*\/N` → N. */
function stepOf(f: string): number | undefined {
  const m = /^\*\/(\d+)$/.exec(f);
  return m ? Number(m[1]) : undefined;
}

/** A list of numbers and ranges (`1,3,5`, `1-5`, names allowed) → the sorted values, or undefined. */
function valuesOf(f: string, names: Record<string, number>, min: number, max: number): number[] | undefined {
  const out = new Set<number>();
  for (const part of f.split(',')) {
    const m = /^([A-Za-z]+|\d+)(?:-([A-Za-z]+|\d+))?$/.exec(part);
    if (!m) return undefined;
    const num = (s: string): number | undefined => (/^\d+$/.test(s) ? Number(s) : names[s.toUpperCase()]);
    const a = num(m[1]!);
    const b = m[2] !== undefined ? num(m[2]) : a;
    if (a === undefined || b === undefined || a > b || a < min || b > max) return undefined;
    for (let v = a; v <= b; v++) out.add(v);
  }
  return [...out].sort((x, y) => x - y);
}

/** `a`, `a and b`, `a, b and c`. */
function joinWords(items: string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function daysPart(dom: string, month: string, dow: string): string | undefined {
  const monthValues = isAny(month) ? undefined : valuesOf(month, MONTH_NAMES, 1, 12);
  if (!isAny(month) && !monthValues) return undefined;
  const inMonths = monthValues ? ` in ${joinWords(monthValues.map((m) => MONTHS[m - 1]!))}` : '';
  if (isAny(dom) && isAny(dow)) return `every day${inMonths}`;
  if (isAny(dom)) {
    const days = valuesOf(dow, DAY_NAMES, 0, 7);
    if (!days) return undefined;
    const set = [...new Set(days.map((d) => d % 7))].sort((a, b) => a - b);
    if (set.join() === '1,2,3,4,5') return `every weekday (Monday to Friday)${inMonths}`;
    if (set.join() === '0,6') return `every Saturday and Sunday${inMonths}`;
    return `every ${joinWords(set.map((d) => DAYS[d]!))}${inMonths}`;
  }
  if (isAny(dow)) {
    const days = valuesOf(dom, {}, 1, 31);
    if (!days) return undefined;
    const which = `day${days.length > 1 ? 's' : ''} ${joinWords(days.map(String))}`;
    if (monthValues) return `on ${which} of ${joinWords(monthValues.map((m) => MONTHS[m - 1]!))}`;
    return `on ${which} of every month`;
  }
  return undefined;
}

/** The expression in words, or undefined when it is not one of the common forms. */
export function cronToWords(cron: string): string | undefined {
  const text = cron.trim();
  const macro = MACROS[text.toLowerCase()];
  let fields = (macro ?? text).split(/\s+/);
  if (fields.length === 6) {
    const [sec, ...rest] = fields as [string, ...string[]];
    if (rest.every(isAny)) {
      if (isAny(sec)) return 'every second';
      const n = stepOf(sec);
      if (n !== undefined) return n === 1 ? 'every second' : `every ${n} seconds`;
    }
    if (sec !== '0' && sec !== '00') return undefined;
    fields = rest;
  }
  if (fields.length !== 5) return undefined;
  const [min, hour, dom, month, dow] = fields as [string, string, string, string, string];
  const daily = isAny(dom) && isAny(month) && isAny(dow);

  if (isAny(hour) && daily) {
    if (isAny(min)) return 'every minute';
    const n = stepOf(min);
    if (n !== undefined) return n === 1 ? 'every minute' : `every ${n} minutes`;
    if (/^\d+$/.test(min) && Number(min) < 60) return `every hour at :${pad(Number(min))}`;
    return undefined;
  }
  if (!/^\d+$/.test(min) || Number(min) > 59) return undefined;
  const m = Number(min);
  const hourStep = stepOf(hour);
  if (hourStep !== undefined) {
    if (!daily) return undefined;
    return hourStep === 1 ? `every hour at :${pad(m)}` : `every ${hourStep} hours at :${pad(m)}`;
  }
  const hours = valuesOf(hour, {}, 0, 23);
  if (!hours || hours.length > 6) return undefined;
  const days = daysPart(dom, month, dow);
  if (!days) return undefined;
  return `${days} at ${joinWords(hours.map((h) => `${pad(h)}:${pad(m)}`))}`;
}

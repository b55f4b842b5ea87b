/**
 * Locale-aware formatting with Intl: numbers, IEC byte sizes (KiB, MiB, GiB…) and dates.
 * Pure functions of (value, locale); formatters are cached per locale.
 */
const IEC_UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'] as const;

const cache = new Map<string, Intl.NumberFormat | Intl.DateTimeFormat>();

function numberFormat(locale: string, maxFraction: number): Intl.NumberFormat {
  const key = `n|${locale}|${maxFraction}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: maxFraction });
    cache.set(key, f);
  }
  return f;
}

export function formatNumber(value: number, locale: string): string {
  return numberFormat(locale, 0).format(value);
}

/** 8589934592 -> "8 GiB"; 24617512960 -> "22.9 GiB". One decimal at most, none for bytes. */
export function formatBytes(bytes: number, locale: string): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  let unit = 0;
  let value = bytes;
  while (value >= 1024 && unit < IEC_UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  // Rounding may reach 1024.0 (e.g. 1023.96 MiB): show the next unit instead.
  if (unit < IEC_UNITS.length - 1 && Math.round(value * 10) / 10 >= 1024) {
    value /= 1024;
    unit += 1;
  }
  return `${numberFormat(locale, unit === 0 ? 0 : 1).format(value)} ${IEC_UNITS[unit]}`;
}

export function formatDateTime(iso: string | Date, locale: string, withSeconds = false): string {
  const date = typeof iso === 'string' ? new Date(iso) : iso;
  if (Number.isNaN(date.getTime())) return '—';
  const key = `d|${locale}|${withSeconds}`;
  let f = cache.get(key) as Intl.DateTimeFormat | undefined;
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeStyle: withSeconds ? 'medium' : 'short' });
    cache.set(key, f);
  }
  return f.format(date);
}

/** A number with up to `maxFraction` decimals: 1.6667 -> "1.67" (en), for ratios and speeds. */
export function formatDecimal(value: number, locale: string, maxFraction = 2): string {
  return numberFormat(locale, maxFraction).format(value);
}

type DurationUnit = 'day' | 'hour' | 'minute';

function unitFormat(locale: string, unit: DurationUnit, maxFraction: number): Intl.NumberFormat {
  const key = `u|${locale}|${unit}|${maxFraction}`;
  let f = cache.get(key) as Intl.NumberFormat | undefined;
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long', maximumFractionDigits: maxFraction });
    cache.set(key, f);
  }
  return f;
}

/**
 * A duration in its largest sensible unit with one decimal: 800000 s -> "9.3 days",
 * 20000 s -> "5.6 hours", 600 s -> "10 minutes" (Intl unit names, so "9.3天" in Chinese).
 */
export function formatDuration(seconds: number, locale: string): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  if (seconds >= 86_400) return unitFormat(locale, 'day', 1).format(seconds / 86_400);
  if (seconds >= 3600) return unitFormat(locale, 'hour', 1).format(seconds / 3600);
  return unitFormat(locale, 'minute', 0).format(Math.max(1, Math.round(seconds / 60)));
}

/** Whole days and hours of a duration, each with its Intl unit name: ["9 days", "6 hours"]. */
export function formatDurationParts(days: number, hours: number, locale: string): [string, string] {
  return [unitFormat(locale, 'day', 0).format(days), unitFormat(locale, 'hour', 0).format(hours)];
}

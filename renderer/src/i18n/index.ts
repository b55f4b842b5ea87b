/**
 * A tiny typed i18n: one catalogue object per locale (same shape as `en`), a reactive current
 * locale, and Intl formatters bound to it. Templates read `m.section.key` (strings) or call
 * `m.section.key(args)` (messages with values): a typo is a type error, not a blank label.
 */
import { computed, ref } from 'vue';
import type { Locale } from '../../../electron/contract/console.ts';
import { en, type Messages } from './en.ts';
import { zhCN } from './zh-CN.ts';
import { formatBytes, formatDateTime, formatDecimal, formatDuration, formatDurationParts, formatNumber } from './format.ts';

export type { Messages };

export const catalogues: Record<Locale, Messages> = { en, 'zh-CN': zhCN };

const current = ref<Locale>('en');

export function setLocale(locale: Locale): void {
  current.value = locale;
}

/** Best locale for a browser language list (before Ferry's saved setting is known). */
export function guessLocale(languages: readonly string[]): Locale {
  return languages.some((l) => l.toLowerCase().startsWith('zh')) ? 'zh-CN' : 'en';
}

export function useI18n() {
  const locale = computed(() => current.value);
  const m = computed<Messages>(() => catalogues[current.value]);
  return {
    locale,
    m,
    bytes: (n: number) => formatBytes(n, current.value),
    num: (n: number) => formatNumber(n, current.value),
    dateTime: (iso: string, withSeconds = false) => formatDateTime(iso, current.value, withSeconds),
    decimal: (n: number, maxFraction = 2) => formatDecimal(n, current.value, maxFraction),
    duration: (seconds: number) => formatDuration(seconds, current.value),
    durationParts: (days: number, hours: number) => formatDurationParts(days, hours, current.value),
  };
}

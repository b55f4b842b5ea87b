// The console's catalogues and formatters: every locale has every message, every code Ferry
// can send has a translation, and sizes use IEC units formatted for the locale.
import { describe, expect, it } from 'vitest';
import { ConsoleErrorCode, Locale, MountWarning, PrerequisiteCheck } from '../../electron/contract/console.ts';
import { en } from '../../renderer/src/i18n/en.ts';
import { catalogues, guessLocale } from '../../renderer/src/i18n/index.ts';
import { formatBytes, formatDateTime, formatNumber } from '../../renderer/src/i18n/format.ts';

type Tree = { [key: string]: unknown };

function leaves(tree: Tree, prefix = ''): Array<[string, unknown]> {
  return Object.entries(tree).flatMap(([k, v]) =>
    v !== null && typeof v === 'object' ? leaves(v as Tree, `${prefix}${k}.`) : [[`${prefix}${k}`, v] as [string, unknown]],
  );
}

describe('message catalogues', () => {
  const reference = leaves(en);

  it.each(Locale.options)('%s has exactly the keys of English, with the same kinds of values', (locale) => {
    const messages = leaves(catalogues[locale]);
    expect(messages.map(([k]) => k)).toEqual(reference.map(([k]) => k));
    for (const [key, value] of messages) {
      const ref = reference.find(([k]) => k === key)?.[1];
      expect(typeof value, key).toBe(typeof ref);
      if (typeof value === 'string') expect(value.trim(), key).not.toBe('');
      if (typeof value === 'function') expect((value as (...a: unknown[]) => unknown).length, key).toBe((ref as (...a: unknown[]) => unknown).length);
    }
  });

  it.each(Locale.options)('%s translates every warning, prerequisite and error code Ferry sends', (locale) => {
    const m = catalogues[locale];
    for (const code of MountWarning.shape.code.options) {
      const text = m.mounts.warnings[code]('soft', '3');
      expect(text, code).toMatch(/\S/);
    }
    for (const code of PrerequisiteCheck.shape.code.options) {
      expect(m.hosts.prereq[code](false, '2', '4'), code).toContain('2');
      expect(m.hosts.prereq.names[code], code).toMatch(/\S/);
    }
    for (const code of [...ConsoleErrorCode.options, 'unreachable'] as const) expect(m.errors[code], code).toMatch(/\S/);
  });

  it('says plainly when console and Ferry speak different protocols', () => {
    expect(en.fatal.protocol('1', '2')).toBe('This console (protocol 1) does not match Ferry (protocol 2). Restart Ferry / reload.');
  });

  it('uses singular and plural in English', () => {
    expect(en.inventory.count(1, '1')).toBe('1 host');
    expect(en.inventory.count(3, '3')).toBe('3 hosts');
    expect(en.mounts.systemHidden(1, '1')).toMatch(/^1 system mount hidden/);
  });

  it('guesses Chinese from the browser languages until Ferry’s setting is known', () => {
    expect(guessLocale(['zh-CN', 'en'])).toBe('zh-CN');
    expect(guessLocale(['zh-TW'])).toBe('zh-CN');
    expect(guessLocale(['de-DE', 'en'])).toBe('en');
    expect(guessLocale([])).toBe('en');
  });
});

describe('formatting', () => {
  it('formats sizes in IEC units', () => {
    expect(formatBytes(0, 'en')).toBe('0 B');
    expect(formatBytes(1023, 'en')).toBe('1,023 B');
    expect(formatBytes(1024, 'en')).toBe('1 KiB');
    expect(formatBytes(1536, 'en')).toBe('1.5 KiB');
    expect(formatBytes(8 * 1024 ** 3, 'en')).toBe('8 GiB');
    expect(formatBytes(24_617_512_960, 'en')).toBe('22.9 GiB');
    expect(formatBytes(1023.97 * 1024 ** 2, 'en')).toBe('1 GiB');
    expect(formatBytes(3 * 1024 ** 4, 'en')).toBe('3 TiB');
    expect(formatBytes(1.5 * 1024 ** 3, 'zh-CN')).toBe('1.5 GiB');
    expect(formatBytes(-1, 'en')).toBe('—');
    expect(formatBytes(Number.NaN, 'en')).toBe('—');
  });

  it('formats numbers and dates for the locale', () => {
    expect(formatNumber(1234567, 'en')).toBe('1,234,567');
    const when = '2026-03-04T05:06:07Z';
    expect(formatDateTime(when, 'en')).toMatch(/2026/);
    expect(formatDateTime(when, 'zh-CN')).toMatch(/2026年3月/);
    expect(formatDateTime('not a date', 'en')).toBe('—');
  });
});

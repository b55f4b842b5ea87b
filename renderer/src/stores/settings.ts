/**
 * Settings store: the operator's locale and theme, persisted by Ferry (settings.get/update)
 * and pushed back by `settings.changed`, so every open console follows the same settings.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import { DEFAULT_SETTINGS, type Settings } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import { setLocale } from '../i18n/index.ts';

export const useSettingsStore = defineStore('ferry.settings', () => {
  const settings = ref<Settings>({ ...DEFAULT_SETTINGS });
  const loaded = ref(false);
  const error = ref<Problem | null>(null);
  /** Bumped by every snapshot that arrives; an older answer never overwrites a newer event. */
  let revision = 0;
  let started = false;

  function apply(next: Settings): void {
    revision += 1;
    settings.value = next;
    loaded.value = true;
    setLocale(next.locale);
  }

  async function load(): Promise<void> {
    const seen = revision;
    try {
      const next = await consoleApi().call('settings.get', {});
      if (revision === seen) apply(next);
      error.value = null;
    } catch (err) {
      error.value = describeError(err);
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const api = consoleApi();
    // Subscribe first: a change between the snapshot and the subscription is never lost.
    api.on('settings.changed', apply);
    api.onReconnect(() => void load());
    await load();
  }

  async function update(patch: Partial<Settings>): Promise<void> {
    const before = settings.value;
    // Optimistic: the switch reacts at once; Ferry's answer (or event) is the truth.
    apply({ ...before, ...patch });
    try {
      apply(await consoleApi().call('settings.update', patch));
      error.value = null;
    } catch (err) {
      apply(before);
      error.value = describeError(err);
    }
  }

  return { settings, loaded, error, init, load, update };
});

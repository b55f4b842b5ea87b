/** Operator preferences (locale, theme), persisted in `<data-dir>/settings.json`. */
import path from 'node:path';
import { DEFAULT_SETTINGS, Settings } from '../contract/console.ts';
import { JsonStore } from './store/json-store.ts';

export class SettingsService {
  private readonly store: JsonStore<typeof Settings>;

  constructor(
    dataDir: string,
    private readonly onChange: (settings: Settings) => void,
  ) {
    this.store = new JsonStore(path.join(dataDir, 'settings.json'), Settings, () => ({ ...DEFAULT_SETTINGS }));
  }

  get(): Promise<Settings> {
    return this.store.load();
  }

  async update(patch: Partial<Settings>): Promise<Settings> {
    const next = await this.store.update((current) => ({ ...current, ...patch }));
    this.onChange(next);
    return next;
  }
}

/**
 * Console entry: mounts the shell at once (it shows "Loading…"), connects to Ferry over the
 * right transport, loads the first snapshots, then lets the shell render. Any startup problem
 * becomes a full-page explanation instead of a blank window.
 */
import './zod-setup.ts';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { connectConsole, StartupError } from './api/index.ts';
import { setConsoleApi } from './api/current.ts';
import { guessLocale, setLocale } from './i18n/index.ts';
import { useAppStore } from './stores/app.ts';
import { useSettingsStore } from './stores/settings.ts';
import './styles/base.css';

setLocale(guessLocale(navigator.languages));

const pinia = createPinia();
createApp(App).use(pinia).mount('#app');

const app = useAppStore(pinia);
const settings = useSettingsStore(pinia);

try {
  setConsoleApi(await connectConsole());
  await Promise.all([app.init(), settings.init()]);
  app.markReady();
} catch (err) {
  if (err instanceof StartupError) app.failStartup(err.problem);
  else app.failStartup({ kind: 'unreachable', detail: err instanceof Error ? err.message : String(err) });
}

/**
 * App store: what this console knows about Ferry itself (hello, app.info) and the state of
 * the connection. A cache of the controller's state; no business logic.
 */
import { defineStore } from 'pinia';
import { ref } from 'vue';
import type { AppInfo, Hello } from '../../../electron/contract/console.ts';
import { consoleApi } from '../api/current.ts';
import { describeError, type Problem } from '../api/describe.ts';
import type { ConnectionState, StartupProblem } from '../api/types.ts';

export const useAppStore = defineStore('ferry.app', () => {
  const hello = ref<Hello | null>(null);
  const shell = ref<'electron' | 'web'>('web');
  const info = ref<AppInfo | null>(null);
  const infoError = ref<Problem | null>(null);
  const connection = ref<ConnectionState>('online');
  /** Set when the console must stop (e.g. Ferry was restarted with another protocol). */
  const fatal = ref<StartupProblem | null>(null);
  /** True once the first snapshots (info, settings) are in and the shell can render. */
  const ready = ref(false);
  let started = false;

  async function loadInfo(): Promise<void> {
    try {
      info.value = await consoleApi().call('app.info', {});
      infoError.value = null;
    } catch (err) {
      infoError.value = describeError(err);
    }
  }

  async function init(): Promise<void> {
    if (started) return;
    started = true;
    const api = consoleApi();
    hello.value = api.hello;
    shell.value = api.shell;
    connection.value = api.connection;
    api.onConnection((state) => (connection.value = state));
    api.onFatal((error) => (fatal.value = error.problem));
    api.onReconnect(() => void loadInfo());
    await loadInfo();
  }

  function failStartup(problem: StartupProblem): void {
    fatal.value = problem;
  }

  function markReady(): void {
    ready.value = true;
  }

  return { hello, shell, info, infoError, connection, fatal, ready, init, loadInfo, failStartup, markReady };
});

/**
 * Connects to Ferry over whichever transport this page runs on: the preload's bridge inside
 * the desktop app, HTTP + WebSocket in the web console. Throws StartupError when it cannot.
 */
import { ConsoleClient } from './client.ts';
import { openElectronTransport } from './electron-transport.ts';
import { openWebTransport } from './web-transport.ts';
import type { ConsoleApi } from './types.ts';

export async function connectConsole(): Promise<ConsoleApi> {
  const client = new ConsoleClient();
  const bridge = window.ferry;
  const transport = bridge ? await openElectronTransport(bridge, client) : await openWebTransport(client);
  return client.attach(transport);
}

export * from './types.ts';

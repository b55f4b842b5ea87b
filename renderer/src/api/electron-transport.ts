/**
 * Desktop transport: the preload's `window.ferry` bridge (IPC to Electron main). There is no
 * socket to drop, so the connection is always online.
 */
import { CONSOLE_PROTOCOL_VERSION, Hello, type CallName } from '../../../electron/contract/console.ts';
import type { FerryBridge } from './electron-bridge.d.ts';
import type { Transport, TransportSink } from './client.ts';
import { ConsoleUnreachableError, StartupError } from './types.ts';

export async function openElectronTransport(bridge: FerryBridge, sink: TransportSink): Promise<Transport> {
  let hello: Hello;
  try {
    hello = Hello.parse(await bridge.hello());
  } catch (err) {
    throw new StartupError({ kind: 'unreachable', detail: err instanceof Error ? err.message : String(err) });
  }
  if (hello.protocolVersion !== CONSOLE_PROTOCOL_VERSION) {
    throw new StartupError({ kind: 'protocol', console: CONSOLE_PROTOCOL_VERSION, ferry: hello.protocolVersion });
  }
  const unsubscribe = bridge.onEvent((envelope) => sink.event(envelope));
  return {
    shell: 'electron',
    hello,
    async invoke(name: CallName, req: unknown): Promise<unknown> {
      try {
        return await bridge.call(name, req);
      } catch (err) {
        throw new ConsoleUnreachableError(name, err);
      }
    },
    close: unsubscribe,
  };
}

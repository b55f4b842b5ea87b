/**
 * The preload: the renderer's only door to Electron. It exposes `window.ferry` with exactly the
 * console contract's calls (an allowlist: unknown names are refused here, before any IPC) and
 * the event stream. Nothing generic like send(channel, ...) is exposed.
 */
import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import { isCallName, type CallResult, type EventEnvelope, type Hello } from './contract/console.ts';
import { IPC_CALL, IPC_EVENT, IPC_HELLO } from './ipc-channels.ts';

const bridge = {
  shell: 'electron' as const,
  hello: (): Promise<Hello> => ipcRenderer.invoke(IPC_HELLO) as Promise<Hello>,
  call: (name: string, req: unknown): Promise<CallResult> => {
    if (!isCallName(name)) {
      return Promise.resolve({ ok: false, error: { code: 'unknown-call', message: `Unknown call "${name}".` } });
    }
    return ipcRenderer.invoke(IPC_CALL, name, req) as Promise<CallResult>;
  },
  onEvent: (callback: (event: EventEnvelope) => void): (() => void) => {
    const listener = (_e: IpcRendererEvent, envelope: EventEnvelope) => callback(envelope);
    ipcRenderer.on(IPC_EVENT, listener);
    return () => ipcRenderer.off(IPC_EVENT, listener);
  },
};

contextBridge.exposeInMainWorld('ferry', bridge);

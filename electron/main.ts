/**
 * Electron main: the desktop shell. It owns the window, the IPC wiring and printing a report
 * page to PDF (printToPDF needs a window), nothing else; all state and logic live in the
 * controller (electron/controller), shared with the web console.
 * Only this file and the preload may import `electron`.
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, ipcMain, safeStorage, session, shell, type IpcMainInvokeEvent } from 'electron';
import { FERRY_VERSION } from '../agent/version.ts';
import { Controller } from './controller/controller.ts';
import { EncryptedFileSecretStore } from './controller/encrypted-secret-store.ts';
import type { SecretStore } from './controller/secrets.ts';
import { IPC_CALL, IPC_EVENT, IPC_HELLO } from './ipc-channels.ts';

const rendererIndex = path.join(__dirname, '../renderer/index.html');

function dataDirFromArgs(argv: string[]): string | null {
  const i = argv.indexOf('--data-dir');
  return i >= 0 ? (argv[i + 1] ?? null) : null;
}

/** Only our own page may call the controller. */
function fromOurPage(event: IpcMainInvokeEvent): boolean {
  const url = event.senderFrame?.url ?? '';
  return url.startsWith('file://') && decodeURIComponent(new URL(url).pathname) === rendererIndex;
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 960,
    minHeight: 600,
    title: 'Ferry',
    show: false,
    webPreferences: {
      preload: path.join(__dirname, 'preload.cjs'),
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  // Links open in the system browser; the window never navigates away from the console.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  win.webContents.on('will-navigate', (e) => e.preventDefault());
  void win.loadFile(rendererIndex);
  return win;
}

/** How long a report page may take to load and print before the PDF export gives up. */
const PRINT_TIMEOUT_MS = 120_000;

/**
 * The desktop app's PDF printer for reports.export 'pdf': loads the report's print-ready page
 * (static, no script: electron/reports/print-page.ts) into a hidden window of its own session
 * that lets nothing but that file load, and prints it with printToPDF (A4, with backgrounds for
 * the verdict's colours, the page's own @page margins).
 */
async function printPageToPdf(htmlFile: string): Promise<Uint8Array> {
  const page = pathToFileURL(htmlFile).href;
  // Only the exports folder's pages load; anything else (the network above all) is cancelled.
  const folder = `${pathToFileURL(path.dirname(htmlFile)).href}/`;
  const printSession = session.fromPartition('ferry-print');
  printSession.webRequest.onBeforeRequest((details, callback) => callback({ cancel: !details.url.startsWith(folder) }));
  const win = new BrowserWindow({ show: false, width: 1024, height: 1400, webPreferences: { session: printSession, javascript: false, sandbox: true, contextIsolation: true, nodeIntegration: false } });
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Printing the report to PDF took longer than ${PRINT_TIMEOUT_MS / 1000} s. Try again, or export HTML and print it from a browser.`)), PRINT_TIMEOUT_MS);
    });
    return await Promise.race([
      (async () => {
        await win.loadURL(page);
        return win.webContents.printToPDF({ pageSize: 'A4', printBackground: true, preferCSSPageSize: true, generateTaggedPDF: true });
      })(),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
    win.destroy();
  }
}

/**
 * Passwords and passphrases sealed by the OS keychain through safeStorage, when it has a real
 * one; else (Linux without a keyring: safeStorage would fall back to a fixed key) none, and the
 * controller keeps them in memory for this run only.
 */
function keychainSecrets(dataDir: string): SecretStore | undefined {
  if (!safeStorage.isEncryptionAvailable()) return undefined;
  if (process.platform === 'linux' && safeStorage.getSelectedStorageBackend() === 'basic_text') return undefined;
  return new EncryptedFileSecretStore(dataDir, { encrypt: (plain) => safeStorage.encryptString(plain), decrypt: (data) => safeStorage.decryptString(data) });
}

async function start(): Promise<void> {
  await app.whenReady();
  const dataDir = dataDirFromArgs(process.argv) ?? app.getPath('userData');
  const secrets = keychainSecrets(dataDir);
  const controller = await Controller.open({
    dataDir,
    ...(secrets ? { secrets } : {}),
    appVersion: FERRY_VERSION,
    shell: 'electron',
    printPdf: printPageToPdf,
    // main.cjs lives in dist/electron; the agent build it deploys is dist/agent, dist/runtime, dist/native.
    distDir: path.join(__dirname, '..'),
  });
  ipcMain.handle(IPC_HELLO, (e) => (fromOurPage(e) ? controller.hello() : null));
  ipcMain.handle(IPC_CALL, (e, name: unknown, payload: unknown) =>
    fromOurPage(e)
      ? controller.dispatch(name, payload)
      : { ok: false, error: { code: 'forbidden-origin', message: 'Calls are accepted from the Ferry window only.' } },
  );
  controller.subscribe((envelope) => {
    for (const win of BrowserWindow.getAllWindows()) win.webContents.send(IPC_EVENT, envelope);
  });
  createWindow();
  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createWindow();
  });
}

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});

start().catch((err: unknown) => {
  console.error('Ferry failed to start:', err);
  app.exit(1);
});

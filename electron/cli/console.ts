/**
 * `ferry console`: runs the controller and the web console until interrupted, printing the URL
 * (with its access token) as the one line a user or a test needs.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { FERRY_VERSION } from '../../agent/version.ts';
import { Controller } from '../controller/controller.ts';
import { defaultDataDir } from '../controller/data-dir.ts';
import { StoreCorruptError } from '../controller/store/json-store.ts';
import { startConsoleServer } from '../console-server/server.ts';
import { parseCliArgs, parsePort } from './args.ts';
import { canOpenBrowser, openBrowser } from './open-browser.ts';

const USAGE = `Usage: ferry console [--data-dir DIR] [--port N] [--no-open]

  --data-dir DIR   Where Ferry keeps hosts, tasks and reports (default: ${defaultDataDir()})
  --port N         Port on 127.0.0.1 (default: a free one)
  --no-open        Do not open a browser (one opens only where there is a desktop)`;

/** The renderer bundle sits next to the CLI bundle: dist/cli/ferry.mjs -> dist/renderer. */
export function rendererDir(): string {
  return path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../renderer');
}

export async function runConsoleCli(argv: string[]): Promise<number> {
  const { values } = parseCliArgs(
    argv,
    { 'data-dir': { type: 'string' }, port: { type: 'string' }, 'no-open': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    false,
    USAGE,
  );
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  let controller: Controller;
  try {
    controller = await Controller.open({ dataDir: values['data-dir'] ?? defaultDataDir(), appVersion: FERRY_VERSION, shell: 'web', distDir: path.resolve(rendererDir(), '..') });
  } catch (err) {
    if (err instanceof StoreCorruptError) {
      console.error(`ferry console: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const server = await startConsoleServer({ controller, staticDir: rendererDir(), port: parsePort(values.port) });
  console.log(`Ferry ${FERRY_VERSION} web console: ${server.url}`);
  console.log(`Data directory: ${controller.dataDir}. Press Ctrl-C to stop.`);
  if (!values['no-open'] && canOpenBrowser()) openBrowser(server.url);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await server.close();
  await controller.close();
  return 0;
}

/**
 * `GET /api/exports/<fileName>`: downloads a report export from `<data-dir>/exports/` (the caller has
 * already passed the bearer-token check). Only plain names inside that folder are served
 * (electron/reports/export-files.ts); any other name gets a clear 400, an unknown one a 404. Always sent
 * as an attachment with a sandboxing CSP, so an exported HTML page never runs in the console's origin.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { ConsoleError } from '../contract/console.ts';
import { ControllerError } from '../controller/errors.ts';
import { resolveExportFile } from '../reports/export-files.ts';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
};

export async function serveExportDownload(
  dataDir: string,
  encodedName: string,
  req: IncomingMessage,
  res: ServerResponse,
  sendError: (res: ServerResponse, error: ConsoleError) => void,
): Promise<void> {
  let name: string;
  try {
    name = decodeURIComponent(encodedName);
  } catch {
    return sendError(res, { code: 'invalid-request', message: 'The export name in the URL is not valid percent-encoding. Use the fileName reports.export returned.' });
  }
  let file: string;
  try {
    file = resolveExportFile(dataDir, name);
  } catch (err) {
    if (err instanceof ControllerError) return sendError(res, err.toConsoleError());
    throw err;
  }
  const stat = await fs.stat(file).catch(() => null);
  if (!stat?.isFile()) return sendError(res, { code: 'not-found', message: `No export named "${name}". Export the report again (reports.export), then download the fileName it returns.` });
  res.writeHead(200, {
    'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream',
    'content-length': stat.size,
    'content-disposition': `attachment; filename="${path.basename(file)}"`,
    'content-security-policy': "sandbox; default-src 'none'",
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') return void res.end();
  await new Promise<void>((resolve, reject) => {
    const stream = createReadStream(file);
    stream.on('error', reject);
    res.on('close', () => {
      stream.destroy();
      resolve();
    });
    stream.pipe(res);
  });
}

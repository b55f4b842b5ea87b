/**
 * Where report exports live: `<data-dir>/exports/<fileName>`, names made only of [A-Za-z0-9._-].
 * Contract: `resolveExportFile` returns a path inside the exports folder or throws a ControllerError
 * ('invalid-request') saying why the name was refused; it never follows a name out of that folder.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { ControllerError } from '../controller/errors.ts';

export const EXPORT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/;

export function exportsDir(dataDir: string): string {
  return path.join(dataDir, 'exports');
}

/** `<id prefix>` and a task name made safe for a file name. */
export function exportFileName(taskName: string, finishedAt: string, id: string, ext: string): string {
  const task = taskName.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._-]+/, '').slice(0, 60) || 'report';
  const when = finishedAt.replace(/\.\d+/, '').replace(/[^0-9TZ]/g, '').slice(0, 16) || 'unknown';
  return `ferry-report-${task}-${when}-${idTag(id)}.${ext}`;
}

/** The part of an export name that says which report it came from. */
function idTag(id: string): string {
  return id.replace(/[^A-Za-z0-9]/g, '').slice(0, 8);
}

/**
 * Removes the exports made from report `id` (they hold its data), print pages a PDF export left
 * behind (`<name>.<tag>.print.html`, or an untagged `<name>.print.html`) included; returns how many.
 */
export async function removeExportsOf(dataDir: string, id: string): Promise<number> {
  const names = await fs.readdir(exportsDir(dataDir)).catch(() => [] as string[]);
  const suffix = new RegExp(`^ferry-report-.*-${idTag(id)}\\.(html|csv|json|pdf|(?:[0-9a-f]+\\.)?print\\.html)$`);
  const mine = names.filter((n) => suffix.test(n));
  await Promise.all(mine.map((n) => fs.rm(path.join(exportsDir(dataDir), n), { force: true })));
  return mine.length;
}

export function resolveExportFile(dataDir: string, fileName: string): string {
  if (!EXPORT_NAME.test(fileName) || fileName.includes('..')) {
    throw new ControllerError(
      'invalid-request',
      `"${fileName.slice(0, 100)}" is not an export file name: names are letters, digits, ".", "_" and "-" (no folders, no ".."). Use the fileName reports.export returned.`,
    );
  }
  const dir = path.resolve(exportsDir(dataDir));
  const resolved = path.resolve(dir, fileName);
  if (path.dirname(resolved) !== dir) throw new ControllerError('invalid-request', `"${fileName}" points outside the exports folder.`);
  return resolved;
}

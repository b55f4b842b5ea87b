/**
 * Export files in the web console: `reports.export` writes the file into Ferry's data
 * directory, and the page fetches it from `GET /api/exports/<fileName>` with the same bearer
 * token as its calls (so the token never appears in a URL), then saves it as a download.
 * Only the page's own origin is contacted. The desktop app has no
 * such route: it shows the saved file instead.
 */
import { takeToken } from './web-transport.ts';

export class ExportFetchError extends Error {
  override readonly name = 'ExportFetchError';
}

/** The export's bytes, typed by its content type. Throws ExportFetchError saying what went wrong. */
export async function fetchExport(fileName: string): Promise<Blob> {
  const token = takeToken();
  if (!token) throw new ExportFetchError('This tab has no access token any more; open the console with the URL Ferry printed.');
  let res: Response;
  try {
    res = await fetch(`${window.location.origin}/api/exports/${encodeURIComponent(fileName)}`, {
      headers: { authorization: `Bearer ${token}` },
      cache: 'no-store',
    });
  } catch (err) {
    throw new ExportFetchError(`Ferry did not answer the download: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
    throw new ExportFetchError(body?.error?.message ?? `Ferry answered HTTP ${res.status} for ${fileName}.`);
  }
  return res.blob();
}

/** Saves a blob under a file name through the browser's download (a Blob URL: no network). */
export function saveBlob(blob: Blob, fileName: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  a.rel = 'noopener';
  a.style.display = 'none';
  document.body.append(a);
  a.click();
  a.remove();
  // The download has its own copy once started; free the URL after the click settled.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

// Stored verification reports end to end: a real `ferry migrate --report` over the hard-case tree (plus
// FIFOs with non-UTF-8, newline and HTML-like names), imported through the Controller's dispatch as the
// web console would; list, get, paged problems with filter and search, clear refusals of bad files,
// the three exports, the download route over real HTTP, a restart, removal. Then a 200,000-record report
// written by the coordinator's report writer, to measure first and later pages.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Report } from '../../agent/protocol/report.ts';
import type { CallResult, EventEnvelope, ProblemRecord, ReportHeader, ReportMeta } from '../../electron/contract/console.ts';
import { startConsoleServer } from '../../electron/console-server/server.ts';
import { Controller } from '../../electron/controller/controller.ts';
import { buildEngine, runCliSync, type EngineBuild } from '../helpers/engine-build.ts';
import { makeTree, removeTree, REPO_ROOT } from '../helpers/make-tree.ts';
import { writeFixtureReport } from '../helpers/report-fixture.ts';

const NON_UTF8 = Buffer.from([...Buffer.from('special/fifo-'), 0xff, 0xfe, 0x41]);
const NEWLINE = Buffer.from('special/fifo-new\nline');
const HOSTILE = Buffer.from('special/evil</script><img src=x onerror=alert(1)>');

let b: EngineBuild;
let tmp: string;
let dataDir: string;
let reportFile: string;
let report: Report;
let controller: Controller;
const events: EventEnvelope[] = [];

function open(): Promise<Controller> {
  return Controller.open({ dataDir, appVersion: '0.0.0-test', shell: 'web' });
}

async function call<T>(name: string, payload: unknown = {}): Promise<T> {
  const r = await controller.dispatch(name, payload);
  if (!r.ok) throw new Error(`${name} failed: ${r.error.code}: ${r.error.message}`);
  return r.result as T;
}

async function callError(name: string, payload: unknown): Promise<{ code: string; message: string }> {
  const r: CallResult = await controller.dispatch(name, payload);
  if (r.ok) throw new Error(`${name} unexpectedly succeeded`);
  return r.error;
}

function mkfifo(root: string, rel: Buffer): void {
  // The path travels as hex so that any byte (even a newline) arrives exactly.
  const script = `p=$(printf "$(echo "$1" | sed 's/../\\\\x&/g')"); mkdir -p -- "$(dirname -- "$p")" && mkfifo -- "$p"`;
  const r = spawnSync('bash', ['-c', script, 'mkfifo', rel.toString('hex')], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mkfifo ${rel.toString('hex')} failed: ${r.stderr}`);
  expect(fs.lstatSync(Buffer.concat([Buffer.from(`${root}/`), rel])).isFIFO()).toBe(true);
}

/** RFC 4180 reader (for checking the export, independent of the writer). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

const bytesOf = (r: ProblemRecord) => (r.path.rawBase64 !== undefined ? Buffer.from(r.path.rawBase64, 'base64') : Buffer.from(r.path.display));

beforeAll(async () => {
  b = await buildEngine();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-reports-it-'));
  fs.chmodSync(tmp, 0o755);
  dataDir = path.join(tmp, 'data');
  const src = path.join(tmp, 'src');
  const dst = path.join(tmp, 'dst');
  await makeTree(src, { huge: false, special: true });
  for (const rel of [NON_UTF8, NEWLINE, HOSTILE]) mkfifo(src, rel);
  // Something only at the destination, which full verification reports as extra.
  fs.mkdirSync(path.join(dst, 'files'), { recursive: true });
  fs.writeFileSync(path.join(dst, 'files', 'only-at-destination.txt'), 'extra\n');
  reportFile = path.join(tmp, 'report.json');
  const run = runCliSync(b, ['migrate', src, dst, '--json', '--verify', 'full', '--state-dir', path.join(tmp, 'state'), '--report', reportFile]);
  expect(fs.existsSync(reportFile), `no report written (exit ${run.code}):\n${run.stderr.slice(-2000)}`).toBe(true);
  report = Report.parse(JSON.parse(fs.readFileSync(reportFile, 'utf8')));
  controller = await open();
  controller.subscribe((e) => events.push(e));
}, 240_000);

afterAll(() => removeTree(tmp));

describe('stored reports through the controller', () => {
  let meta: ReportMeta;

  it('imports the report of a real migration and announces it', async () => {
    expect(report.problems.length).toBeGreaterThanOrEqual(5);
    meta = await call<ReportMeta>('reports.importFile', { path: reportFile, taskName: 'nas-a to nas-b' });
    expect(meta).toMatchObject({ taskName: 'nas-a to nas-b', taskId: report.taskId, source: report.source, destination: report.destination, passed: report.passed, problems: report.problems.length });
    expect(meta.bytes).toBeGreaterThan(0);
    const changed = events.filter((e) => e.event === 'reports.changed');
    expect(changed.at(-1)?.payload).toEqual([meta]);
    expect(await call<ReportMeta[]>('reports.list')).toEqual([meta]);
    const { header } = await call<{ meta: ReportMeta; header: ReportHeader }>('reports.get', { id: meta.id });
    expect(header.summary).toEqual(report.summary);
    expect(header.finishedAt).toBe(report.finishedAt);
    // The same report again is the same stored report, not a second copy.
    events.length = 0;
    expect(await call<ReportMeta>('reports.importFile', { path: reportFile })).toEqual(meta);
    expect(events).toEqual([]);
    expect(fs.readdirSync(path.join(dataDir, 'reports')).sort()).toEqual([meta.id, 'index.json'].sort());
  });

  it('pages, filters by category and searches displayed paths case-insensitively, keeping exact bytes', async () => {
    type Page = { total: number; offset: number; records: ProblemRecord[] };
    const all = await call<Page>('reports.problems', { id: meta.id, offset: 0, limit: 2000 });
    expect(all.total).toBe(report.problems.length);
    expect(all.records.map(bytesOf)).toEqual(report.problems.map(bytesOf));
    const second = await call<Page>('reports.problems', { id: meta.id, offset: 2, limit: 2 });
    expect(second.records).toEqual(all.records.slice(2, 4));
    expect(second.offset).toBe(2);

    const skipped = await call<Page>('reports.problems', { id: meta.id, category: 'skipped', limit: 2000 });
    expect(skipped.total).toBe(report.problems.filter((p) => p.category === 'skipped').length);
    expect(skipped.records.every((r) => r.category === 'skipped')).toBe(true);
    expect(skipped.records.map((r) => r.code)).toEqual(expect.arrayContaining(['fifo']));

    const extra = await call<Page>('reports.problems', { id: meta.id, category: 'extra' });
    expect(extra.records.map((r) => r.path.display)).toEqual(['files/only-at-destination.txt']);

    const nonUtf8 = await call<Page>('reports.problems', { id: meta.id, search: 'FIFO-\\XFF' });
    expect(nonUtf8.total).toBe(1);
    expect(nonUtf8.records[0]?.path.display).toBe('special/fifo-\\xff\\xfeA');
    expect(bytesOf(nonUtf8.records[0] as ProblemRecord)).toEqual(NON_UTF8);

    const newline = await call<Page>('reports.problems', { id: meta.id, search: 'new\\nline' });
    expect(newline.records.map((r) => r.path.display)).toEqual(['special/fifo-new\\nline']);
    expect(bytesOf(newline.records[0] as ProblemRecord)).toEqual(NEWLINE);

    const hostile = await call<Page>('reports.problems', { id: meta.id, search: '</SCRIPT>', category: 'skipped' });
    expect(hostile.records.map(bytesOf)).toEqual([HOSTILE]);
    expect((await call<Page>('reports.problems', { id: meta.id, search: 'no such path anywhere' })).total).toBe(0);
    expect((await callError('reports.problems', { id: 'nope' })).code).toBe('not-found');
  });

  it('refuses a file that is not a report, a truncated one and one of another version, storing nothing', async () => {
    const before = fs.readdirSync(path.join(dataDir, 'reports')).sort();
    const text = fs.readFileSync(reportFile, 'utf8');
    const cases: [string, string | null, RegExp][] = [
      [path.join(REPO_ROOT, 'package.json'), null, /package\.json is not a Ferry verification report/],
      [path.join(tmp, 'truncated.json'), text.slice(0, Math.floor(text.length * 0.6)), /truncated\.json is truncated/],
      [path.join(tmp, 'v2.json'), text.replace('"version":1,', '"version":2,'), /v2\.json has report version 2; this Ferry reads version 1\. Upgrade Ferry/],
      [path.join(tmp, 'missing.json'), undefined as unknown as null, /missing\.json does not exist/],
      [path.join(tmp, 'damaged.json'), text.replace('"category":"skipped"', '"category":"lost"'), /damaged\.json is damaged: problem record \d+ \(line \d+\) is invalid: category/],
    ];
    for (const [file, content, message] of cases) {
      if (typeof content === 'string') fs.writeFileSync(file, content);
      const error = await callError('reports.importFile', { path: file });
      expect(error.code).toBe('invalid-request');
      expect(error.message).toMatch(message);
    }
    expect(fs.readdirSync(path.join(dataDir, 'reports')).sort()).toEqual(before);
    expect((await call<ReportMeta[]>('reports.list')).map((r) => r.id)).toEqual([meta.id]);
  });

  it('exports HTML, CSV and JSON into the exports folder', async () => {
    type Exported = { fileName: string; path: string; bytes: number };
    const html = await call<Exported>('reports.export', { id: meta.id, format: 'html' });
    const csv = await call<Exported>('reports.export', { id: meta.id, format: 'csv' });
    const json = await call<Exported>('reports.export', { id: meta.id, format: 'json' });
    for (const e of [html, csv, json]) {
      expect(path.dirname(e.path)).toBe(path.join(dataDir, 'exports'));
      expect(fs.statSync(e.path).size).toBe(e.bytes);
      expect(e.fileName).toMatch(/^ferry-report-nas-a_to_nas-b-\d{8}T\d{6}Z-[0-9a-f]{8}\.(html|csv|json)$/);
    }

    const page = fs.readFileSync(html.path, 'utf8');
    expect(page).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-/);
    expect(page).not.toMatch(/<(link|img|iframe)\b|src=["']?http|url\(/i);
    expect(page.match(/<\/script>/g)).toHaveLength(2); // the data block and the viewer, nothing from a file name
    expect(page).not.toContain('<img src=x');
    expect(page).toContain(report.passed ? 'PASSED' : 'FAILED');

    const rows = parseCsv(fs.readFileSync(csv.path, 'utf8').replace(/^\ufeff/, ''));
    expect(rows[0]).toEqual(['path', 'category', 'kind', 'code', 'reason', 'path_bytes_base64']);
    expect(rows).toHaveLength(report.problems.length + 1);
    const exact = rows.slice(1).map((r) => Buffer.from(r[5] as string, 'base64'));
    expect(exact).toEqual(report.problems.map(bytesOf));
    expect(rows.slice(1).map((r) => r[0])).toContain('special/fifo-new\\nline');

    const exported = Report.parse(JSON.parse(fs.readFileSync(json.path, 'utf8')));
    expect({ ...exported, problems: exported.problems.map(bytesOf) }).toEqual({ ...report, problems: report.problems.map(bytesOf) });
    // Round trip: importing the JSON export is the same stored report.
    expect((await call<ReportMeta>('reports.importFile', { path: json.path })).id).toBe(meta.id);
  });

  it('serves an export over the web console only with the token, as an attachment, refusing path tricks', async () => {
    const staticDir = path.join(tmp, 'static');
    fs.mkdirSync(staticDir, { recursive: true });
    fs.writeFileSync(path.join(staticDir, 'index.html'), '<!doctype html><title>Ferry</title>');
    const server = await startConsoleServer({ controller, staticDir });
    try {
      const { fileName, path: file } = await call<{ fileName: string; path: string }>('reports.export', { id: meta.id, format: 'csv' });
      const base = `http://127.0.0.1:${server.port}/api/exports/`;
      const auth = { authorization: `Bearer ${server.token}` };
      expect((await fetch(base + fileName)).status).toBe(401);
      expect((await fetch(base + fileName, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      const ok = await fetch(base + fileName, { headers: auth });
      expect(ok.status).toBe(200);
      expect(ok.headers.get('content-disposition')).toBe(`attachment; filename="${fileName}"`);
      expect(ok.headers.get('content-type')).toBe('text/csv; charset=utf-8');
      expect(Buffer.from(await ok.arrayBuffer())).toEqual(fs.readFileSync(file));
      for (const trick of ['..%2Freports%2Findex.json', '%2e%2e%2fhosts.json', '.hidden', 'a%00b', 'sub%2Fname.csv', '%E0%A4%A']) {
        const res = await fetch(base + trick, { headers: auth });
        const body = (await res.json()) as { ok: boolean; error: { code: string; message: string } };
        expect(res.status, trick).toBe(400);
        expect(body.error.code).toBe('invalid-request');
        expect(body.error.message).toMatch(/not an export file name|percent-encoding/);
      }
      const unknown = await fetch(`${base}ferry-report-none.csv`, { headers: auth });
      expect(unknown.status).toBe(404);
      expect(((await unknown.json()) as { error: { message: string } }).error.message).toMatch(/No export named "ferry-report-none.csv"/);
    } finally {
      await server.close();
    }
  });

  it('keeps the report across a restart, and removes it with its files', async () => {
    controller = await open();
    controller.subscribe((e) => events.push(e));
    expect((await call<ReportMeta[]>('reports.list')).map((r) => r.id)).toEqual([meta.id]);
    const page = await call<{ total: number; records: ProblemRecord[] }>('reports.problems', { id: meta.id, category: 'skipped' });
    expect(page.total).toBe(report.problems.filter((p) => p.category === 'skipped').length);
    events.length = 0;
    expect(await call('reports.remove', { id: meta.id })).toEqual({ removed: true });
    expect(events).toEqual([{ event: 'reports.changed', payload: [] }]);
    expect(fs.existsSync(path.join(dataDir, 'reports', meta.id))).toBe(false);
    expect(fs.readdirSync(path.join(dataDir, 'exports'))).toEqual([]);
    expect(await call('reports.list')).toEqual([]);
    expect(await call('reports.remove', { id: meta.id })).toEqual({ removed: false });
    expect((await callError('reports.get', { id: meta.id })).code).toBe('not-found');
    controller = await open();
    expect(await call('reports.list')).toEqual([]);
    // A damaged report list stops Ferry at start with a message naming the file; it is never reset.
    const indexJson = path.join(dataDir, 'reports', 'index.json');
    const good = fs.readFileSync(indexJson);
    fs.writeFileSync(indexJson, '{"version":1,"reports":[{"meta":');
    await expect(open()).rejects.toThrow(/reports\/index\.json is not a valid Ferry state file/);
    expect(fs.readFileSync(indexJson, 'utf8')).toBe('{"version":1,"reports":[{"meta":');
    fs.writeFileSync(indexJson, good);
  });
});

describe('a report with 200,000 problem records', () => {
  it('pages fast from its index, saved or rebuilt by one streamed pass (figures printed, not asserted)', async () => {
    const big = path.join(tmp, 'big-report.json');
    const writerMs = await writeFixtureReport(big, { problems: 200_000, verified: 5_000 });
    const figures: Record<string, number> = { writerMs, reportBytes: fs.statSync(big).size };
    const time = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
      const t = performance.now();
      const out = await fn();
      figures[name] = Math.round((performance.now() - t) * 10) / 10;
      return out;
    };
    const meta = await time('importMs', () => call<ReportMeta>('reports.importFile', { path: big, taskName: 'big' }));
    expect(meta.problems).toBe(200_000);
    type Page = { total: number; records: ProblemRecord[] };
    const indexFile = path.join(dataDir, 'reports', meta.id, 'problems.idx');
    // After a restart the saved index is loaded; without it, the stored report is streamed once (and the index saved again).
    controller = await open();
    const first = await time('firstPageAfterRestartMs', () => call<Page>('reports.problems', { id: meta.id, offset: 0, limit: 200 }));
    expect(first.total).toBe(200_000);
    expect(first.records[0]?.path.display).toBe('data/dir-0/file-0.dat');
    figures.indexFileBytes = fs.statSync(indexFile).size;
    fs.rmSync(indexFile);
    controller = await open();
    const rebuilt = await time('firstPageRebuildingIndexMs', () => call<Page>('reports.problems', { id: meta.id, offset: 0, limit: 200 }));
    expect(rebuilt).toEqual(first);
    expect(fs.statSync(indexFile).size).toBe(figures.indexFileBytes);
    // A damaged index is never trusted: it is rebuilt.
    fs.writeFileSync(indexFile, fs.readFileSync(indexFile).subarray(0, 1000));
    controller = await open();
    expect(await call<Page>('reports.problems', { id: meta.id, offset: 0, limit: 200 })).toEqual(first);
    // The writer emits entries in journal order, then extras sorted by their bytes.
    const name = (i: number) => `data/dir-${i % 997}/file-${i}.dat`;
    const ids = Array.from({ length: 200_000 }, (_, i) => i);
    const order = [...ids.filter((i) => i % 6 !== 5).map(name), ...ids.filter((i) => i % 6 === 5).map(name).sort()];
    const later: number[] = [];
    for (let k = 1; k <= 20; k++) {
      const offset = (k * 9_973) % 199_800;
      const t = performance.now();
      const page = await call<Page>('reports.problems', { id: meta.id, offset, limit: 200 });
      later.push(performance.now() - t);
      expect(page.records.map((r) => r.path.display)).toEqual(order.slice(offset, offset + 200));
      expect(page.records).toHaveLength(200);
    }
    later.sort((x, y) => x - y);
    figures.laterPageMedianMs = Math.round((later[10] as number) * 10) / 10;
    figures.laterPageMaxMs = Math.round((later[19] as number) * 10) / 10;
    const failed = await time('categoryFirstPageMs', () => call<Page>('reports.problems', { id: meta.id, category: 'failed', limit: 200 }));
    expect(failed.total).toBe(ids.filter((i) => i % 6 === 1).length);
    await time('categoryLaterPageMs', () => call<Page>('reports.problems', { id: meta.id, category: 'failed', offset: 20_000, limit: 200 }));
    const found = await time('searchFirstPageMs', () => call<Page>('reports.problems', { id: meta.id, search: 'DIR-99/', limit: 200 }));
    expect(found.total).toBe(Array.from({ length: 200_000 }, (_, i) => i).filter((i) => i % 997 === 99).length);
    expect(found.records.every((r) => r.path.display.includes('dir-99/'))).toBe(true);
    await time('searchLaterPageMs', () => call<Page>('reports.problems', { id: meta.id, search: 'DIR-99/', offset: 100, limit: 100 }));
    await time('exportHtmlMs', () => call('reports.export', { id: meta.id, format: 'html' }));
    await time('exportCsvMs', () => call('reports.export', { id: meta.id, format: 'csv' }));
    await time('exportJsonMs', () => call('reports.export', { id: meta.id, format: 'json' }));
    console.log(`report paging figures (200,000 problem records): ${JSON.stringify(figures)}`);
    fs.mkdirSync(path.join(REPO_ROOT, 'test-output'), { recursive: true });
    fs.writeFileSync(path.join(REPO_ROOT, 'test-output', 'report-paging.json'), `${JSON.stringify(figures, null, 2)}\n`);
  }, 300_000);
});

// Report files on disk, small and hand-made: the line reader's offsets across chunk boundaries, the
// import checks and their messages, the canonical layout, and the saved problem index.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPORT_FORMAT, type ProblemRecord, type ReportHeader } from '../../agent/protocol/report.ts';
import { encodeIndex, loadIndexFile, saveIndexFile } from '../../electron/reports/index-file.ts';
import { readLines, type Line } from '../../electron/reports/line-reader.ts';
import { indexReportFile } from '../../electron/reports/problem-index.ts';
import { readReportFile, ReportFileError } from '../../electron/reports/report-file.ts';
import { ReportStore } from '../../electron/reports/report-store.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-report-files-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));
let n = 0;
const file = (content: string | Buffer) => {
  const f = path.join(tmp, `f${++n}.json`);
  fs.writeFileSync(f, content);
  return f;
};

const summary = { entries: 3, files: 2, dirs: 1, symlinks: 0, hardLinks: 0, copied: 1, bytesCopied: 5, skippedUnchanged: 0, skippedByPolicy: 0, verified: 1, different: 0, missing: 0, extra: 0, deleted: 0, changedDuringMigration: 0, skipped: { total: 1, byReason: { fifo: 1 } }, failed: { total: 1, byReason: { EIO: 1 } }, wouldCopy: 0, wouldDelete: 0 };
const header: ReportHeader = { format: REPORT_FORMAT, version: 1, taskId: 't1', source: '/s', destination: '/d', mode: 'full', verify: 'transferred', dryRun: false, startedAt: '2026-01-01T00:00:00.000Z', finishedAt: '2026-01-01T00:01:00.000Z', passed: false, error: null, summary };
const records: ProblemRecord[] = [
  { path: { display: 'a/fifo' }, kind: 'fifo', category: 'skipped', code: 'fifo', reason: 'special file' },
  { path: { display: 'caf\\xe9', rawBase64: 'Y2Fm6Q==' }, kind: 'file', category: 'failed', code: 'EIO', reason: 'read error' },
];
/** The coordinator's streamed layout (agent/engine/report-writer.ts). */
const streamed = (h: object, rs: object[]) => `${JSON.stringify(h).slice(0, -1)},"problems":[\n${rs.map((r) => JSON.stringify(r)).join(',\n')}\n]}\n`;

async function collect(f: string) {
  const got: ProblemRecord[] = [];
  const result = await readReportFile(f, { header: () => undefined, record: (r) => void got.push(r) });
  return { ...result, got };
}

async function refusal(f: string): Promise<string> {
  try {
    await collect(f);
  } catch (err) {
    expect(err).toBeInstanceOf(ReportFileError);
    return (err as Error).message;
  }
  throw new Error('accepted');
}

describe('readLines', () => {
  it('gives each line with its byte offset, across 1 MiB chunk boundaries and multi-chunk lines', async () => {
    const lines = ['short', 'é'.repeat(700_000), '', 'x'.repeat(3 * 1024 * 1024), 'tail without newline'];
    const f = file(lines.join('\n'));
    const content = fs.readFileSync(f);
    const seen: Line[] = [];
    await readLines(f, (l) => void seen.push(l));
    expect(seen.map((l) => l.text)).toEqual(lines);
    for (const l of seen) expect(content.toString('utf8', l.offset, l.offset + l.bytes)).toBe(l.text);
    expect(seen.map((l) => l.terminated)).toEqual([true, true, true, true, false]);
    expect(seen.map((l) => l.number)).toEqual([1, 2, 3, 4, 5]);
  });

  it('stops early and refuses over-long lines', async () => {
    const f = file('one\ntwo\nthree\n');
    const seen: string[] = [];
    await readLines(f, (l) => (seen.push(l.text), false));
    expect(seen).toEqual(['one']);
    await expect(readLines(file(`${'y'.repeat(5000)}\n`), () => undefined, 1000)).rejects.toThrow(/line 1 is longer than 1000 bytes/);
  });
});

describe('reading a report file', () => {
  it('reads the streamed layout, an empty problem list, and a pretty-printed document alike', async () => {
    const a = await collect(file(streamed(header, records)));
    expect(a.records).toBe(2);
    expect(a.got).toEqual(records);
    expect(a.header).toEqual(header);
    expect((await collect(file(`${JSON.stringify(header).slice(0, -1)},"problems":[\n\n]}\n`))).records).toBe(0);
    const pretty = await collect(file(JSON.stringify({ ...header, problems: records }, null, 2)));
    expect(pretty.got).toEqual(records);
  });

  it('says clearly what is wrong, naming the file', async () => {
    expect(await refusal(file(''))).toMatch(/f\d+\.json is empty/);
    expect(await refusal(file('hello world\n'))).toMatch(/is not a Ferry verification report: it is not JSON/);
    expect(await refusal(file('{"name":"x"}'))).toMatch(/is not a Ferry verification report \(it has no "format": "ferry-report"\)/);
    expect(await refusal(file(streamed({ ...header, version: 7 }, records)))).toMatch(/has report version 7; this Ferry reads version 1\. Upgrade Ferry/);
    expect(await refusal(file(streamed({ ...header, version: 0 }, records)))).toMatch(/has report version 0; .*Open it with the Ferry that wrote it/);
    expect(await refusal(file(streamed({ ...header, summary: { ...summary, copied: -1 } }, records)))).toMatch(/has an invalid header: summary\.copied/);
    const full = streamed(header, records);
    expect(await refusal(file(full.slice(0, full.indexOf('\n') + 20)))).toMatch(/is truncated: it ends after 0 problem records/);
    expect(await refusal(file(full.slice(0, full.lastIndexOf(']}'))))).toMatch(/is truncated: it ends after 2 problem records without the closing "\]\}"/);
    expect(await refusal(file(JSON.stringify({ ...header, problems: records }).slice(0, -30)))).toMatch(/is truncated/);
    expect(await refusal(file(streamed(header, [records[0] as object, { ...records[1], path: { display: 'x', rawBase64: '***' } }])))).toMatch(/problem record 2 \(line 3\) has path\.rawBase64 that is not base64/);
    expect(await refusal(file(full.replace('},\n{', '}\n{')))).toMatch(/follows a record that does not end with ','/);
    expect(await refusal(file(`${full}garbage\n`))).toMatch(/unexpected content after the end of the report, at line 5/);
    expect(await refusal(path.join(tmp, 'nope.json'))).toMatch(/nope\.json does not exist/);
    expect(await refusal(tmp)).toMatch(/is not a regular file/);
  });
});

describe('stored copy and saved index', () => {
  it('stores the canonical layout, indexes it, and a saved index loads only for its own report', async () => {
    const store = new ReportStore(path.join(tmp, 'data'));
    const pretty = file(JSON.stringify({ ...header, problems: records }, null, 2));
    const { stored, index } = await store.import(pretty, 'pretty');
    const canonical = fs.readFileSync(store.reportFile(stored.meta.id), 'utf8');
    expect(canonical).toBe(streamed(header, records));
    expect(await store.header(stored.meta.id)).toEqual(header);
    const rebuilt = await indexReportFile(store.reportFile(stored.meta.id));
    expect(encodeIndex(rebuilt, canonical.length)).toEqual(encodeIndex(index!, canonical.length));
    const loaded = await loadIndexFile(store.indexFile(stored.meta.id), store.reportFile(stored.meta.id));
    expect(loaded).not.toBeNull();
    expect((await loaded!.page({ offset: 0, limit: 10, category: null, search: 'CAF' })).records).toEqual([records[1]]);
    expect(loaded!.categoryCounts()).toEqual({ skipped: 1, failed: 1 });
    // For a report of another size, or a damaged file, there is no index (the caller rebuilds it).
    const other = file(streamed(header, [records[0] as object]));
    expect(await loadIndexFile(store.indexFile(stored.meta.id), other)).toBeNull();
    const damaged = path.join(tmp, 'damaged.idx');
    await saveIndexFile(damaged, rebuilt, canonical.length);
    fs.writeFileSync(damaged, fs.readFileSync(damaged).subarray(0, 30));
    expect(await loadIndexFile(damaged, store.reportFile(stored.meta.id))).toBeNull();
  });
});

// Bundled and run on Node 24 by big-report.ts: big-report.mjs JOURNAL_DIR REPORT_FILE COUNT.
// Fills a real journal with COUNT failed entries and writes the task's report with the engine's writer.
import { E, Journal } from '../../agent/engine/journal.ts';
import { writeReport } from '../../agent/engine/report-writer.ts';
import { TaskSpec } from '../../agent/protocol/task.ts';
import type { WireMeta } from '../../agent/protocol/wire.ts';

const [dir, file, countText] = process.argv.slice(2);
const count = Number(countText);
if (!dir || !file || !Number.isInteger(count) || count < 1) {
  console.error('usage: big-report.mjs JOURNAL_DIR REPORT_FILE COUNT');
  process.exit(2);
}

const meta = (i: number): WireMeta => ({
  kind: 'file',
  size: 4096,
  mode: 0o100644,
  uid: 0,
  gid: 0,
  atimeNs: '0',
  mtimeNs: '0',
  ctimeNs: '0',
  dev: '1',
  ino: String(1000 + i),
  nlink: 1,
  blocks: 8,
});

const startedAt = new Date(Date.now() - 3_600_000).toISOString();
const journal = new Journal(dir);
const spec = TaskSpec.parse({ taskId: 'bulk-many-problems', sourceRoot: '/mnt/old-nas/bulk', destinationRoot: '/mnt/new-nas/bulk' });
const BATCH = 10_000;
for (let start = 0; start < count; start += BATCH) {
  journal.tx(() => {
    for (let i = start; i < Math.min(count, start + BATCH); i++) {
      const rel = i === count - 1 ? `bulk/zz-last-${i}` : `bulk/d${String(i % 100).padStart(2, '0')}/file-${i}`;
      journal.addEntry(Buffer.from(rel), 'file', 4096, meta(i), null, null, E.FAILED, 'EIO', `read failed at offset ${i * 4096}: input/output error`);
    }
  });
}
const header = writeReport(journal, spec, file, { startedAt, error: null });
journal.close();
console.log(JSON.stringify({ failed: header.summary.failed.total, passed: header.passed }));

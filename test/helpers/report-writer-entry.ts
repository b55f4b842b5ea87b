// Entry point bundled by test/helpers/report-fixture.ts and run on the agents' Node 24 runtime (the
// journal needs node:sqlite): fills a real task journal with problem entries and writes the report
// with the coordinator's own writer (agent/engine/report-writer.ts).
//   node report-writer.mjs SPEC.json   where SPEC is a ReportFixtureSpec (report-fixture.ts)
import fs from 'node:fs';
import { E, Journal, V, X } from '../../agent/engine/journal.ts';
import { writeReport } from '../../agent/engine/report-writer.ts';
import { TaskSpec } from '../../agent/protocol/task.ts';

interface Spec {
  stateDir: string;
  reportFile: string;
  problems: number;
  verified: number;
  extraNamesBase64: string[];
}

const spec = JSON.parse(fs.readFileSync(process.argv[2] as string, 'utf8')) as Spec;
const j = new Journal(spec.stateDir);
const meta = { mode: 0o644, uid: 0, gid: 0, size: 0, mtimeNs: '0', atimeNs: '0', ctimeNs: '0', dev: '1', ino: '1', nlink: 1 };
const setV = j.q('UPDATE entries SET v_state = ?, v_reason = ?, copied = 1 WHERE id = ?');
const addExtra = j.q('INSERT INTO extras (rel, kind, state, reason) VALUES (?, ?, ?, ?)');

/** One problem per category in turn: skipped, failed, changed, different, missing, extra. */
function addProblem(rel: Buffer, i: number): void {
  switch (i % 6) {
    case 0:
      j.addEntry(rel, 'fifo', 0, meta as never, null, null, E.SKIPPED, i % 12 === 0 ? 'fifo' : 'socket', 'special files are not copied');
      return;
    case 1:
      j.addEntry(rel, 'file', 10, meta as never, null, null, E.FAILED, i % 4 === 1 ? 'EACCES' : 'EIO', 'could not read it: permission denied');
      return;
    case 2:
      j.addEntry(rel, 'file', 10, meta as never, null, null, E.CHANGED, 'changed', 'its size or mtime changed while it was read');
      return;
    case 3:
    case 4: {
      const id = j.addEntry(rel, 'file', 10, meta as never, null, null, E.COPIED, null, null);
      setV.run(i % 6 === 3 ? V.DIFFERENT : V.MISSING, i % 6 === 3 ? 'SHA-256 differs' : 'not at the destination', id as number);
      return;
    }
    default:
      addExtra.run(rel, 'file', X.FOUND, 'only at the destination');
  }
}

j.tx(() => {
  spec.extraNamesBase64.forEach((b64, k) => addProblem(Buffer.from(b64, 'base64'), k));
  for (let i = 0; i < spec.problems - spec.extraNamesBase64.length; i++) addProblem(Buffer.from(`data/dir-${i % 997}/file-${i}.dat`), i);
  for (let i = 0; i < spec.verified; i++) j.addEntry(Buffer.from(`ok/f-${i}`), 'file', 100, meta as never, null, null, E.VERIFIED, null, null);
});
const task = TaskSpec.parse({ taskId: 'fixture-task', sourceRoot: '/mnt/src/share', destinationRoot: '/mnt/dst/share', verify: 'full' });
writeReport(j, task, spec.reportFile, { startedAt: new Date(Date.now() - 3_723_000).toISOString(), error: null });
j.close();

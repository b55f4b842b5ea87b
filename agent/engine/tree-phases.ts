/**
 * The phases after the copy, each a walk over the journal with a cursor (restartable: after a crash
 * the walk starts over, and every step is safe to do twice):
 *   links  later names of hard-link groups become links to the first name (destination workers);
 *   mirror destination directories are listed; extras are deleted (mirror) or just recorded;
 *   dirs   directories get their metadata, deepest first, the root last (after all contents);
 *   verify 'full' only: both trees are listed again with hashes (source first, then destination,
 *          the journal's 'step') and compared entry by entry.
 * The coordinator owns the workers, the jobs and the order of the phases; this owns what each of
 * these phases hands out and what it records of the answers.
 */
import type { TaskPhase, TaskSpec } from '../protocol/task.ts';
import type { CoordinatorMessage, ItemResult, WorkerMessage } from '../protocol/wire.ts';
import { TEMP_PREFIX } from '../fs/atomic-write.ts';
import { startsWithBytes } from '../fs/relpath.ts';
import { DEST_SLOTS, DIRS_PER_LIST_JOB, ITEMS_PER_JOB, LIST_SLOTS } from './coordinator-jobs.ts';
import type { Job, JobKind, WorkerLink } from './coordinator-jobs.ts';
import type { EntryFilter } from './filters.ts';
import { D, E, V, X, blob, metaOf, num, str } from './journal.ts';
import type { Journal } from './journal.ts';
import { compareDir, compareEntry } from './verify.ts';
import { b64, childRel, unb64 } from './wire-meta.ts';

const TEMP = Buffer.from(TEMP_PREFIX);

/** What these phases need of the coordinator. */
export interface PhaseHost {
  readonly journal: Journal;
  readonly spec: TaskSpec;
  readonly filter: EntryFilter;
  sources(): WorkerLink[];
  destinations(): WorkerLink[];
  /** Jobs of that kind the worker has in flight. */
  jobsOf(w: WorkerLink, kind: JobKind): number;
  /** Whether any job of the task is in flight. */
  busy(): boolean;
  startJob(kind: JobKind, w: WorkerLink, ids: number[], extra?: Partial<Job>): Job;
  send(w: WorkerLink, msg: CoordinatorMessage): void;
}

type Listed = Extract<WorkerMessage, { t: 'listed' }>;

/** A walk from the start: dirs by id, entries by id, or dirs deepest first (by depth, then id). */
function startCursor(): { depth: number; id: number; exhausted: boolean } {
  return { depth: Number.MAX_SAFE_INTEGER, id: 0, exhausted: false };
}

export class TreePhases {
  private readonly host: PhaseHost;
  private readonly journal: Journal;
  private readonly spec: TaskSpec;
  private readonly filter: EntryFilter;
  /** Where the current phase's walk is (dirs by id / entries by id / dirs by depth). */
  private cursor = startCursor();
  /** Ids of the current phase handed back (a worker was lost): handed out again first. */
  private phaseRetry: number[] = [];
  /** Mirror: extras found at the destination, to delete. */
  private extrasQueue: Buffer[] = [];

  constructor(host: PhaseHost) {
    this.host = host;
    this.journal = host.journal;
    this.spec = host.spec;
    this.filter = host.filter;
  }

  /** A new phase (or verification step) walks from the start. */
  reset(): void {
    this.cursor = startCursor();
    this.phaseRetry = [];
  }

  /** Hands out the phase's work while the workers have slots. */
  dispatch(phase: TaskPhase): void {
    if (phase === 'links') this.dispatchLinks();
    else if (phase === 'mirror') this.dispatchMirror();
    else if (phase === 'dirs') this.dispatchDirs();
    else if (phase === 'verify') this.dispatchVerify();
  }

  /** True when the phase has walked everything and nothing waits to be handed out (again). */
  idle(phase: TaskPhase): boolean {
    const walked = this.cursor.exhausted && this.phaseRetry.length === 0;
    return phase === 'mirror' ? walked && this.extrasQueue.length === 0 : walked;
  }

  /** A lost worker's job of one of these phases: its work is handed out again. */
  requeue(job: Job): void {
    if (job.kind === 'delete') this.extrasQueue.unshift(...(job.rels ?? []));
    else this.phaseRetry.push(...job.ids);
  }

  /** Full verification starts: no earlier comparison counts, and the source is listed first. */
  startVerify(): void {
    this.journal.tx(() => {
      this.journal.q('UPDATE entries SET v_state = NULL, v_reason = NULL, vs_hash = NULL, vs_meta = NULL').run();
      this.journal.q('UPDATE dirs SET v_state = NULL, v_reason = NULL').run();
    });
    this.journal.set('step', 'src');
  }

  /** After the source's rescan, the destination's; false when that was done too. */
  nextVerifyStep(): boolean {
    if (this.journal.get('step') !== 'src') return false;
    this.journal.set('step', 'dst');
    this.cursor = startCursor();
    return true;
  }

  /** A listing of a mirror or verification job. */
  onListed(job: Job, msg: Listed): void {
    if (job.kind === 'vsrc') this.onSourceRescan(msg);
    else this.onDestListed(job, msg);
  }

  /** Results of link, dirs and delete jobs. */
  onApplied(job: Job, results: ItemResult[]): void {
    const j = this.journal;
    j.tx(() => {
      for (const r of results) {
        if (job.kind === 'link') {
          if (r.status === 'ok') j.setEntryState(r.id, E.LINKED);
          else j.setEntryState(r.id, E.FAILED, r.code ?? 'io', r.reason ?? 'Could not create the hard link.');
        } else if (job.kind === 'dirs') {
          if (r.status !== 'ok') j.setDirState(r.id, D.FAILED, r.code ?? 'io', r.reason ?? 'Could not create the directory or set its metadata.');
        } else if (job.kind === 'delete') {
          const rel = job.rels?.[r.id];
          if (!rel) continue;
          if (r.status === 'ok') j.q('UPDATE extras SET state = ? WHERE rel = ?').run(X.DELETED, rel);
          else j.q('UPDATE extras SET state = ?, reason = ? WHERE rel = ?').run(X.FAILED, r.reason ?? 'Could not delete it.', rel);
        }
      }
    });
  }

  /** Next page of the current phase's cursor, or [] when exhausted. */
  private nextPage(sql: string, params: (number | Buffer)[], keyOf: (r: Record<string, unknown>) => { depth?: number; id: number }): Record<string, unknown>[] {
    if (this.cursor.exhausted) return [];
    const rows = this.journal.q(sql).all(...params) as Record<string, unknown>[];
    if (rows.length === 0) {
      this.cursor.exhausted = true;
      return [];
    }
    const last = keyOf(rows[rows.length - 1] as Record<string, unknown>);
    this.cursor.id = last.id;
    if (last.depth !== undefined) this.cursor.depth = last.depth;
    return rows;
  }

  private dispatchLinks(): void {
    for (const d of this.host.destinations()) {
      while (this.host.jobsOf(d, 'link') < DEST_SLOTS) {
        const rows = this.takeLinkRows();
        if (rows.length === 0) return;
        const items: { id: number; rel: string; target: string }[] = [];
        const ids: number[] = [];
        this.journal.tx(() => {
          for (const r of rows) {
            const id = num(r.id as number);
            const primaryState = num(r.pstate as number);
            if (![E.VERIFIED, E.COPIED, E.UNCHANGED, E.KEPT].includes(primaryState as 3)) {
              this.journal.setEntryState(id, E.FAILED, 'link-target-failed', 'Not linked: the first name of its hard-link group was not copied.');
              continue;
            }
            ids.push(id);
            items.push({ id, rel: b64(blob(r.rel as Uint8Array)), target: b64(blob(r.prel as Uint8Array)) });
          }
        });
        if (items.length === 0) continue;
        const job = this.host.startJob('link', d, ids);
        this.host.send(d, { t: 'link', job: job.id, items });
      }
    }
  }

  private takeLinkRows(): Record<string, unknown>[] {
    if (this.phaseRetry.length > 0) {
      const ids = this.phaseRetry.splice(0, ITEMS_PER_JOB);
      return ids.map((id) => this.journal.q('SELECT e.id, e.rel, p.rel AS prel, p.state AS pstate FROM entries e JOIN entries p ON p.id = e.link_to WHERE e.id = ?').get(id)).filter((r): r is NonNullable<typeof r> => r !== undefined);
    }
    return this.nextPage(
      'SELECT e.id, e.rel, p.rel AS prel, p.state AS pstate FROM entries e JOIN entries p ON p.id = e.link_to WHERE e.state = ? AND e.id > ? ORDER BY e.id LIMIT ?',
      [E.LINK, this.cursor.id, ITEMS_PER_JOB],
      (r) => ({ id: num(r.id as number) }),
    );
  }

  private dispatchDirs(): void {
    // Strictly deepest first: one job at a time, so a parent never gets its times before a child is created.
    const d = this.host.destinations()[0];
    if (!d || this.host.busy()) return;
    let rows: Record<string, unknown>[];
    if (this.phaseRetry.length > 0) {
      const ids = this.phaseRetry.splice(0);
      rows = ids.map((id) => this.journal.q('SELECT id, rel, depth, meta FROM dirs WHERE id = ?').get(id)).filter((r): r is NonNullable<typeof r> => r !== undefined);
    } else {
      rows = this.nextPage(
        'SELECT id, rel, depth, meta FROM dirs WHERE depth < ? OR (depth = ? AND id > ?) ORDER BY depth DESC, id LIMIT ?',
        [this.cursor.depth, this.cursor.depth, this.cursor.id, ITEMS_PER_JOB],
        (r) => ({ depth: num(r.depth as number), id: num(r.id as number) }),
      );
    }
    if (rows.length === 0) return;
    const items = rows.map((r) => ({ id: num(r.id as number), rel: b64(blob(r.rel as Uint8Array)), meta: metaOf(r.meta as string) }));
    const job = this.host.startJob('dirs', d, items.map((i) => i.id));
    this.host.send(d, { t: 'dirs', job: job.id, items });
  }

  /** Lists every source directory at the destination (dest 'list' jobs), for extras. */
  private dispatchDirLists(kind: 'mlist' | 'vdst' | 'vsrc', hash: boolean): void {
    const workers = kind === 'vsrc' ? this.host.sources() : this.host.destinations();
    for (const w of workers) {
      while (this.host.jobsOf(w, kind) < LIST_SLOTS) {
        let ids: number[];
        if (this.phaseRetry.length > 0) ids = this.phaseRetry.splice(0, DIRS_PER_LIST_JOB);
        else {
          const rows = this.nextPage('SELECT id FROM dirs WHERE state = ? AND id > ? ORDER BY id LIMIT ?', [D.LISTED, this.cursor.id, DIRS_PER_LIST_JOB], (r) => ({ id: num(r.id as number) }));
          ids = rows.map((r) => num(r.id as number));
        }
        if (ids.length === 0) return;
        const dirs = ids.map((id) => ({ id, rel: b64(this.journal.dirRel(id) ?? Buffer.alloc(0)) }));
        const job = this.host.startJob(kind, w, ids);
        this.host.send(w, { t: 'list', job: job.id, dirs, hash });
      }
    }
  }

  private dispatchMirror(): void {
    this.dispatchDirLists('mlist', false);
    for (const d of this.host.destinations()) {
      while (this.host.jobsOf(d, 'delete') < 1 && this.extrasQueue.length > 0) {
        const rels = this.extrasQueue.splice(0, ITEMS_PER_JOB);
        const job = this.host.startJob('delete', d, rels.map((_, i) => i), { rels });
        const items = rels.map((rel) => ({ rel: b64(rel), kind: str(this.journal.q('SELECT kind FROM extras WHERE rel = ?').get(rel)?.kind) ?? '' }));
        this.host.send(d, { t: 'delete', job: job.id, items });
      }
    }
  }

  private dispatchVerify(): void {
    const step = this.journal.get('step');
    this.dispatchDirLists(step === 'dst' ? 'vdst' : 'vsrc', true);
  }

  /** A destination listing (mirror or verification): find extras and, when verifying, compare. */
  private onDestListed(job: Job, msg: Listed): void {
    const j = this.journal;
    const dirRel = j.dirRel(msg.dir);
    if (dirRel === null) return;
    const verifying = job.kind === 'vdst';
    const owner = this.spec.preserveOwner && job.worker.isRoot;
    j.tx(() => {
      for (const e of msg.entries) {
        const name = unb64(e.name);
        if (name.length === 0) {
          // Directory metadata is checked from its parent's listing; the root from its own.
          const dir = verifying && dirRel.length === 0 ? j.dirByRel(dirRel) : null;
          if (dir) this.recordDirVerify(dir.id, compareDir(dir.meta, e.meta, owner));
          continue;
        }
        if (startsWithBytes(name, TEMP)) continue;
        const rel = childRel(dirRel, name);
        const known = j.entryByRel(rel);
        const dir = known ? null : j.dirByRel(rel);
        if (!known && !dir) {
          if (this.filter.isExcluded(rel)) continue;
          const state = verifying ? X.FOUND : this.spec.dryRun ? X.WOULD_DELETE : X.FOUND;
          const r = j.q('INSERT OR IGNORE INTO extras (rel, kind, state) VALUES (?, ?, ?)').run(rel, e.meta.kind, state);
          if (!verifying && !this.spec.dryRun && Number(r.changes) === 1) this.extrasQueue.push(rel);
          continue;
        }
        if (!verifying) continue;
        if (dir) {
          this.recordDirVerify(dir.id, compareDir(dir.meta, e.meta, owner));
          continue;
        }
        if (!known || !isVerifiable(known.state)) continue;
        const hash = msg.hashes?.[e.name];
        const problem = compareEntry(known, e, hash, owner);
        j.q('UPDATE entries SET v_state = ?, v_reason = ? WHERE id = ?').run(problem ? V.DIFFERENT : V.OK, problem, known.id);
      }
      if (verifying && msg.done) {
        // Entries of this directory the destination does not have.
        j.q(`UPDATE entries SET v_state = ?, v_reason = 'Not found at the destination.' WHERE v_state IS NULL AND rel > ? AND rel < ? AND state IN (${VERIFIABLE.join(',')}) AND instr(substr(rel, ?), ?) = 0`).run(
          V.MISSING,
          prefixLow(dirRel),
          prefixHigh(dirRel),
          dirRel.length === 0 ? 1 : dirRel.length + 2,
          Buffer.of(0x2f),
        );
      }
      if (msg.error && verifying) {
        const dir = j.dirByRel(dirRel);
        if (dir) this.recordDirVerify(dir.id, `Could not list it at the destination: ${msg.error.message}`);
      }
    });
  }

  private recordDirVerify(id: number, problem: string | null): void {
    this.journal.q('UPDATE dirs SET v_state = ?, v_reason = ? WHERE id = ?').run(problem ? V.DIFFERENT : V.OK, problem, id);
  }

  /** A source re-listing with hashes (full verification): remember what the source has now. */
  private onSourceRescan(msg: Listed): void {
    const j = this.journal;
    const dirRel = j.dirRel(msg.dir);
    if (dirRel === null) return;
    j.tx(() => {
      for (const e of msg.entries) {
        const name = unb64(e.name);
        if (name.length === 0) continue;
        const rel = childRel(dirRel, name);
        const hash = msg.hashes?.[e.name] ?? null;
        j.q('UPDATE entries SET vs_hash = ?, vs_meta = ? WHERE rel = ?').run(hash, JSON.stringify({ ...e.meta, target: e.target ?? null }), rel);
      }
    });
  }
}

const VERIFIABLE: number[] = [E.VERIFIED, E.COPIED, E.UNCHANGED, E.LINKED];

function isVerifiable(state: number): boolean {
  return VERIFIABLE.includes(state);
}

/** Lower bound (exclusive) of the rels directly or indirectly under dirRel, for BLOB range scans. */
function prefixLow(dirRel: Buffer): Buffer {
  return dirRel.length === 0 ? Buffer.alloc(0) : Buffer.concat([dirRel, Buffer.of(0x2f)]);
}

function prefixHigh(dirRel: Buffer): Buffer {
  return dirRel.length === 0 ? Buffer.alloc(4096, 0xff) : Buffer.concat([dirRel, Buffer.of(0x30)]);
}

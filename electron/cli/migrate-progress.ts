/**
 * How `ferry migrate` shows a task: a one-line progress bar on a terminal (files, bytes, rate, ETA),
 * plain lines otherwise, JSON events with --json, and the final summary. Formatting only, no IO
 * beyond writing to the given streams.
 */
import type { TaskStatus } from '../../agent/protocol/task.ts';
import type { ReportSummary } from '../../agent/protocol/report.ts';

export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 || i === 0 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return '--:--';
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = Math.floor(s % 60);
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}` : `${m}:${String(sec).padStart(2, '0')}`;
}

export class ProgressView {
  private readonly tty: boolean;
  private readonly json: boolean;
  private readonly out: NodeJS.WriteStream;
  private samples: { t: number; bytes: number }[] = [];
  private lastLine = 0;
  private drawn = false;

  constructor(out: NodeJS.WriteStream, json: boolean) {
    this.out = out;
    this.json = json;
    this.tty = !json && out.isTTY === true;
  }

  event(name: string, data: Record<string, unknown>): void {
    if (this.json) this.out.write(`${JSON.stringify({ event: name, time: new Date().toISOString(), ...data })}\n`);
  }

  note(text: string): void {
    if (this.json) return;
    this.clear();
    this.out.write(`${text}\n`);
  }

  update(s: TaskStatus): void {
    const now = Date.now();
    const p = s.progress;
    this.samples.push({ t: now, bytes: p.bytesDone });
    while (this.samples.length > 2 && now - (this.samples[0] as { t: number }).t > 5000) this.samples.shift();
    const first = this.samples[0] as { t: number; bytes: number };
    const rate = now > first.t ? ((p.bytesDone - first.bytes) * 1000) / (now - first.t) : 0;
    if (this.json) {
      if (now - this.lastLine < 1000) return;
      this.lastLine = now;
      this.event('progress', { state: s.state, phase: s.phase, ...p, bytesPerSec: Math.round(rate) });
      return;
    }
    const eta = rate > 0 && s.phase === 'copy' ? (p.bytesTotal - p.bytesDone) / rate : NaN;
    const frac = p.filesTotal > 0 ? p.filesDone / p.filesTotal : 0;
    const width = 24;
    const bar = '#'.repeat(Math.round(frac * width)).padEnd(width, '.');
    const line = `[${bar}] ${p.filesDone.toLocaleString('en')}/${p.filesTotal.toLocaleString('en')} files  ${formatBytes(p.bytesDone)}/${formatBytes(p.bytesTotal)}  ${formatBytes(rate)}/s  ETA ${formatDuration(eta)}  ${s.phase}${s.state !== 'running' ? ` (${s.state})` : ''}`;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${line}`);
      this.drawn = true;
    } else if (now - this.lastLine >= 5000) {
      this.lastLine = now;
      this.out.write(`${line}\n`);
    }
  }

  clear(): void {
    if (this.tty && this.drawn) {
      this.out.write('\r\x1b[2K');
      this.drawn = false;
    }
  }

  summary(summary: ReportSummary, passed: boolean, dryRun: boolean, reportPath: string | null): void {
    this.clear();
    if (this.json) return;
    const lines = dryRun
      ? [
          `Dry run: would copy ${summary.wouldCopy.toLocaleString('en')}, would delete ${summary.wouldDelete.toLocaleString('en')}, unchanged ${summary.skippedUnchanged.toLocaleString('en')}, kept ${summary.skippedByPolicy.toLocaleString('en')}.`,
        ]
      : [
          `Copied ${summary.copied.toLocaleString('en')} files (${formatBytes(summary.bytesCopied)}); verified ${summary.verified.toLocaleString('en')}; unchanged ${summary.skippedUnchanged.toLocaleString('en')}; kept by policy ${summary.skippedByPolicy.toLocaleString('en')}; hard links ${summary.hardLinks.toLocaleString('en')}; deleted ${summary.deleted.toLocaleString('en')}.`,
        ];
    if (summary.skipped.total) lines.push(`Skipped ${summary.skipped.total} (${Object.entries(summary.skipped.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}).`);
    if (summary.failed.total) lines.push(`Failed ${summary.failed.total} (${Object.entries(summary.failed.byReason).map(([k, v]) => `${k} ${v}`).join(', ')}).`);
    if (summary.changedDuringMigration) lines.push(`Changed during migration: ${summary.changedDuringMigration}.`);
    if (summary.different || summary.missing || summary.extra) lines.push(`Verification: ${summary.different} different, ${summary.missing} missing, ${summary.extra} extra.`);
    lines.push(passed ? 'Verification passed.' : 'Verification did NOT pass: see the report for every problem entry.');
    if (reportPath) lines.push(`Report: ${reportPath}`);
    this.out.write(`${lines.join('\n')}\n`);
  }
}

/**
 * Stored verification reports: `<data-dir>/reports/<id>.json` in the agent's streamed report format
 * (agent/protocol/report.ts) plus an index, listed, paged, searched and exported for the console.
 * Skeleton: the handlers are wired; the implementation lands with the report viewer.
 */
import type { CallRequestParsed, CallResponse, ReportMeta } from '../contract/console.ts';
import { ControllerError } from '../controller/errors.ts';

const notYet = () => new ControllerError('internal', 'Reports are not available in this build yet.');

export class ReportsService {
  constructor(
    readonly dataDir: string,
    private readonly onChange: (reports: ReportMeta[]) => void,
  ) {}

  async list(): Promise<ReportMeta[]> {
    return [];
  }

  async get(_req: CallRequestParsed<'reports.get'>): Promise<CallResponse<'reports.get'>> {
    throw notYet();
  }

  async problems(_req: CallRequestParsed<'reports.problems'>): Promise<CallResponse<'reports.problems'>> {
    throw notYet();
  }

  async importFile(_req: CallRequestParsed<'reports.importFile'>): Promise<ReportMeta> {
    this.onChange(await this.list());
    throw notYet();
  }

  async export(_req: CallRequestParsed<'reports.export'>): Promise<CallResponse<'reports.export'>> {
    throw notYet();
  }

  async remove(_req: CallRequestParsed<'reports.remove'>): Promise<CallResponse<'reports.remove'>> {
    throw notYet();
  }
}

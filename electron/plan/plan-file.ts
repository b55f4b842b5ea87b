/**
 * Reads and writes plan files (YAML). Every problem found, by the YAML parser, the schema or the
 * cross-reference check, comes back with the file's line and column so the operator can go
 * straight to it. Never throws for bad input: a `PlanFileResult` with problems is returned.
 */
import { promises as fs } from 'node:fs';
import { isNode, LineCounter, parseDocument, stringify, type Document } from 'yaml';
import { checkPlanReferences, Plan, type PlanProblem } from '../contract/plan.ts';

export interface LocatedProblem extends PlanProblem {
  line: number | null;
  column: number | null;
}

export type PlanFileResult = { ok: true; plan: Plan } | { ok: false; problems: LocatedProblem[] };

export function parsePlanText(text: string): PlanFileResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      problems: doc.errors.map((e) => {
        const pos = lineCounter.linePos(e.pos[0]);
        return { path: '', message: `YAML: ${e.message.split('\n')[0]}`, line: pos.line, column: pos.col };
      }),
    };
  }
  const parsed = Plan.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    return {
      ok: false,
      problems: parsed.error.issues.map((i) => locate(doc, lineCounter, { path: i.path.map(String).join('.'), message: i.message })),
    };
  }
  const references = checkPlanReferences(parsed.data);
  if (references.length > 0) return { ok: false, problems: references.map((p) => locate(doc, lineCounter, p)) };
  return { ok: true, plan: parsed.data };
}

export async function readPlanFile(file: string): Promise<PlanFileResult> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const message = code === 'ENOENT' ? `No plan file at ${file}.` : `Cannot read ${file}: ${(err as Error).message}`;
    return { ok: false, problems: [{ path: '', message, line: null, column: null }] };
  }
  return parsePlanText(text);
}

export function planToYaml(plan: Plan): string {
  return `# Ferry migration plan (version ${plan.version}). Check it with: ferry plan check FILE\n${stringify(plan, { lineWidth: 0 })}`;
}

/** Finds the deepest node of `problem.path` that exists in the document, for its position. */
function locate(doc: Document, lineCounter: LineCounter, problem: PlanProblem): LocatedProblem {
  const keys = problem.path === '' ? [] : problem.path.split('.').map((k) => (/^\d+$/.test(k) ? Number(k) : k));
  for (let n = keys.length; n >= 0; n--) {
    const node = doc.getIn(keys.slice(0, n), true);
    if (isNode(node) && node.range) {
      const pos = lineCounter.linePos(node.range[0]);
      return { ...problem, line: pos.line, column: pos.col };
    }
  }
  return { ...problem, line: null, column: null };
}

export function formatProblem(file: string, p: LocatedProblem): string {
  const where = p.line === null ? file : `${file}:${p.line}:${p.column}`;
  return `${where}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

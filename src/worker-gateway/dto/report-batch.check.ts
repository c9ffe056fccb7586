import { REPORT_STATUSES } from '@forest/protocol';
import { isPlainObject } from '../../common/validation';

/** Mirrors ReportBatchDto / ExecutionReportDto (kept in step by report-batch.check.spec.ts). */
const MAX_REPORTS = 500;
const MAX_EXECUTION_ID = 200;
const STATUSES: ReadonlySet<unknown> = new Set(REPORT_STATUSES);

/**
 * The FastCheck of ReportBatchDto: true only for a batch its decorators accept, written
 * the way workers send it (no nulls, no unknown fields). Anything else goes through
 * class-validator, which names the problem.
 */
export function isWellFormedReportBatch(value: unknown): boolean {
  if (!isPlainObject(value)) return false;
  for (const key in value) if (key !== 'reports') return false;
  const reports = value.reports;
  if (!Array.isArray(reports) || reports.length < 1 || reports.length > MAX_REPORTS) return false;
  for (const report of reports) if (!isWellFormedReport(report)) return false;
  return true;
}

function isWellFormedReport(report: unknown): boolean {
  if (!isPlainObject(report)) return false;
  for (const key in report) {
    const field = report[key];
    switch (key) {
      case 'executionId':
        if (typeof field !== 'string' || field.length > MAX_EXECUTION_ID) return false;
        break;
      case 'status':
        if (!STATUSES.has(field)) return false;
        break;
      case 'output':
      case 'error':
        if (typeof field !== 'string') return false;
        break;
      case 'startedAtMs':
        if (!Number.isSafeInteger(field) || (field as number) < 0) return false;
        break;
      default:
        return false;
    }
  }
  return typeof report.executionId === 'string' && report.status !== undefined;
}

import 'reflect-metadata';
import { REPORT_STATUSES } from '@forest/protocol';
import fc from 'fast-check';
import { createValidationPipe } from '../../common/validation';
import { isWellFormedReportBatch } from './report-batch.check';
import { ReportBatchDto } from './worker.dto';

const pipe = createValidationPipe();
const metadata = { type: 'body' as const, metatype: ReportBatchDto };

/** What class-validator alone says of a body (through a subclass without the fast path). */
async function classValidatorAccepts(body: unknown): Promise<boolean> {
  try {
    await pipe.transform(structuredClone(body), { ...metadata, metatype: SlowReportBatchDto });
    return true;
  } catch {
    return false;
  }
}

/** The same DTO without the FastPath decorator: class-validator alone. */
class SlowReportBatchDto extends ReportBatchDto {}

const report = {
  executionId: 'job~001795482750000',
  status: 'succeeded',
  output: 'ok',
  startedAtMs: 1795482750004,
};

describe('isWellFormedReportBatch (the FastCheck of ReportBatchDto)', () => {
  it('accepts the batches workers send, and the pipe passes them on as they are', async () => {
    const body = { reports: [report, { executionId: 'a~1', status: 'running' }] };
    expect(isWellFormedReportBatch(body)).toBe(true);
    expect(await pipe.transform(body, metadata)).toBe(body);
    expect(await classValidatorAccepts(body)).toBe(true);
  });

  it.each([
    ['no reports', { reports: [] }],
    ['too many', { reports: Array.from({ length: 501 }, () => report) }],
    ['an unknown field', { reports: [{ ...report, extra: 1 }] }],
    ['an unknown top-level field', { reports: [report], more: true }],
    ['a status that is not one', { reports: [{ ...report, status: 'done' }] }],
    ['no executionId', { reports: [{ status: 'running' }] }],
    ['a long executionId', { reports: [{ ...report, executionId: 'x'.repeat(201) }] }],
    ['a negative startedAtMs', { reports: [{ ...report, startedAtMs: -1 }] }],
    ['a fractional startedAtMs', { reports: [{ ...report, startedAtMs: 1.5 }] }],
    ['a numeric output', { reports: [{ ...report, output: 5 }] }],
    ['a null report', { reports: [null] }],
    ['reports as an object', { reports: { 0: report } }],
  ])('refuses %s, and class-validator answers it as before (400)', async (_, body) => {
    expect(isWellFormedReportBatch(body)).toBe(false);
    await expect(pipe.transform(body, metadata)).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
    });
  });

  it('never accepts what class-validator refuses (generated batches)', async () => {
    const value = fc.oneof(
      fc.string(),
      fc.integer(),
      fc.double(),
      fc.constant(null),
      fc.boolean(),
      fc.constantFrom(...REPORT_STATUSES),
    );
    const reportLike = fc.dictionary(
      fc.constantFrom('executionId', 'status', 'output', 'error', 'startedAtMs', 'other'),
      value,
    );
    await fc.assert(
      fc.asyncProperty(fc.array(reportLike, { maxLength: 4 }), async (reports) => {
        const body = { reports };
        if (isWellFormedReportBatch(body)) expect(await classValidatorAccepts(body)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });
});

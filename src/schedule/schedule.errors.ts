/**
 * A schedule (cron expression or time zone) that Forest cannot run. `field` says which
 * half is wrong and the message says what to change, so the API can hand it to the user as is.
 */
export class InvalidScheduleError extends Error {
  constructor(
    readonly field: 'cron' | 'timezone',
    message: string,
  ) {
    super(message);
    this.name = 'InvalidScheduleError';
  }
}

/** Input the engine cannot make sense of: two raw punches with one id, a time that is not a time, an unknown zone. */
export class TimesheetInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TimesheetInputError';
  }
}

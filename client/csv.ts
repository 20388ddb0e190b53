// Every CSV the project writes. Course names and Moodle's messages are untrusted: a cell starting with = + - @, a
// tab or a carriage return is one a spreadsheet may run as a formula, so it is written with a leading quote
// (csv-stringify's escape_formulas; a negative number stays a number).
import { stringify } from 'csv-stringify/sync';

export const toCsv = <T>(rows: T[], columns: readonly (keyof T & string)[]) =>
  stringify(rows as Record<string, unknown>[], { header: true, columns: [...columns], escape_formulas: true });

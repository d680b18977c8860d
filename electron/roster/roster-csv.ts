import { realpathSync, statSync } from 'node:fs';
import { isAbsolute, relative, resolve, sep } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { ClockfaceError } from '../../shared/errors.js';
import { MAX_IMAGE_BYTES } from '../face/decode-image.js';
import { PIN_PATTERN } from '../security/pin-hash.js';

/** The roster file's columns. `photos` holds paths relative to --photos, separated by ';'; `pin` is optional. */
export const ROSTER_COLUMNS = ['employee_no', 'full_name', 'department', 'site', 'photos', 'pin'] as const;
const REQUIRED_COLUMNS = ['employee_no', 'full_name', 'site'] as const;

export type RowErrorCode =
  | 'MISSING_EMPLOYEE_NO'
  | 'INVALID_EMPLOYEE_NO'
  | 'MISSING_NAME'
  | 'INVALID_FIELD'
  | 'INVALID_SITE'
  | 'INVALID_PIN'
  | 'DUPLICATE_IN_FILE'
  | 'WRONG_COLUMN_COUNT'
  | 'PHOTOS_WITHOUT_FOLDER'
  | 'PHOTO_OUTSIDE_FOLDER'
  | 'PHOTO_MISSING'
  // Found while enrolling or applying, after parsing:
  | 'PHOTO_UNREADABLE'
  | 'NO_FACE'
  | 'MULTIPLE_FACES'
  | 'POOR_QUALITY'
  | 'DUPLICATE_FACE'
  | 'DATABASE_REFUSED';

export interface RowError {
  line: number;
  employeeNo: string | null;
  code: RowErrorCode;
  reason: string;
}

export interface RosterRow {
  line: number;
  employeeNo: string;
  fullName: string;
  department: string | null;
  site: string;
  /** Absolute, checked to be inside the photos folder and to exist. */
  photos: string[];
  pin: string | null;
}

/**
 * Control characters (NUL, newlines inside quoted fields, escape sequences…) have no place in a name and break what
 * shows it: PostgreSQL refuses NUL outright, a newline splits report lines, an escape repaints a terminal. Refused
 * per field, so the row's error names the field. Format characters (zero-width joiners, right-to-left marks) are
 * part of how many scripts are written and are stored as given.
 */
const NO_CONTROL = /^[^\p{Cc}]*$/u;

const optionalText = (field: string, max: number) =>
  z
    .string()
    .max(max, `${field} longer than ${max} characters`)
    .regex(NO_CONTROL, `${field} contains control characters (line breaks, tabs, NUL…)`)
    .transform((s) => (s.trim() === '' ? null : s.trim()));

const rowSchema = z.object({
  employee_no: z
    .string()
    .trim()
    .min(1, 'missing employee number')
    // No invisible characters either (\p{Cf}: zero-width spaces, direction marks): two numbers that look the same
    // on screen and in reports must be the same number.
    .regex(/^[^\s\p{Cc}\p{Cf}]{1,64}$/u, 'employee number: 1 to 64 characters without spaces, control or invisible characters'),
  full_name: z
    .string()
    .trim()
    .min(1, 'missing full name')
    .max(200, 'full name longer than 200 characters')
    .regex(NO_CONTROL, 'full name contains control characters (line breaks, tabs, NUL…)'),
  department: optionalText('department', 200),
  site: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'site: letters, digits, _ . - (up to 64)'),
  photos: z.string().regex(NO_CONTROL, 'photos: a path contains control characters (NUL, line breaks…)'),
  pin: z
    .string()
    .trim()
    .refine((p) => p === '' || PIN_PATTERN.test(p), 'pin: 4 to 8 digits'),
});

function decodeUtf8(buffer: Buffer, file: string): string {
  if (buffer.length >= 2 && ((buffer[0] === 0xff && buffer[1] === 0xfe) || (buffer[0] === 0xfe && buffer[1] === 0xff))) {
    throw new ClockfaceError('ROSTER_INVALID', `${file} is UTF-16; save it as UTF-8 (CSV UTF-8 in Excel)`);
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(buffer);
  } catch {
    throw new ClockfaceError('ROSTER_INVALID', `${file} is not UTF-8 text (Latin-1 or another code page?); save it as UTF-8`);
  }
}

function errorCodeFor(field: string, message: string): RowErrorCode {
  if (field === 'employee_no') return message.startsWith('missing') ? 'MISSING_EMPLOYEE_NO' : 'INVALID_EMPLOYEE_NO';
  if (field === 'full_name') return message.startsWith('missing') ? 'MISSING_NAME' : 'INVALID_FIELD';
  if (field === 'site') return 'INVALID_SITE';
  if (field === 'pin') return 'INVALID_PIN';
  return 'INVALID_FIELD';
}

/** The folder itself, resolved through links, so that a link inside it cannot point a photo outside. */
function realFolder(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    throw new ClockfaceError('ROSTER_INVALID', `photos folder ${dir} does not exist`);
  }
}

function checkPhoto(photosDir: string, entry: string): { path: string } | { code: RowErrorCode; reason: string } {
  const candidate = resolve(photosDir, entry);
  const inside = (p: string) => {
    const rel = relative(photosDir, p);
    return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
  };
  if (isAbsolute(entry) || !inside(candidate)) {
    return { code: 'PHOTO_OUTSIDE_FOLDER', reason: `photo "${entry}" is outside the photos folder` };
  }
  // Where the path really leads is checked before anything about the target is asked: a link to a FIFO or a device
  // outside the folder must be refused as outside, never stat'ed or opened.
  let real: string;
  try {
    real = realpathSync(candidate);
  } catch {
    return { code: 'PHOTO_MISSING', reason: `photo "${entry}" not found in the photos folder` };
  }
  if (!inside(real)) return { code: 'PHOTO_OUTSIDE_FOLDER', reason: `photo "${entry}" links outside the photos folder` };
  const stat = statSync(real);
  if (!stat.isFile()) return { code: 'PHOTO_MISSING', reason: `photo "${entry}" is not a file` };
  // Checked before the file is read: a 50 MB "photo" is refused without holding it in memory.
  if (stat.size > MAX_IMAGE_BYTES) {
    return { code: 'PHOTO_UNREADABLE', reason: `photo "${entry}" is larger than ${MAX_IMAGE_BYTES / 2 ** 20} MB` };
  }
  return { path: real };
}

/**
 * Parses and validates a roster file. File-level problems (encoding, missing columns, broken quoting, no rows)
 * throw ROSTER_INVALID with one clear message; row problems are collected with their line numbers, and the valid
 * rows are returned.
 */
export function parseRoster(buffer: Buffer, options: { file: string; photosDir?: string }): { rows: RosterRow[]; errors: RowError[] } {
  const text = decodeUtf8(buffer, options.file);
  if (text.replace(/^\uFEFF/, '').trim() === '') throw new ClockfaceError('ROSTER_INVALID', `${options.file} is empty`);
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    // With `info`, csv-parse returns { record, info } per row; its typings only describe the plain form.
    records = parse(text, { bom: true, skip_empty_lines: true, relax_column_count: true, info: true }) as unknown as Array<{
      record: string[];
      info: { lines: number };
    }>;
  } catch (e) {
    throw new ClockfaceError('ROSTER_INVALID', `${options.file}: ${e instanceof Error ? e.message : String(e)}`);
  }
  const [headerRecord, ...body] = records;
  const header = (headerRecord?.record ?? []).map((h) => h.trim().toLowerCase());
  if (body.length === 0) throw new ClockfaceError('ROSTER_INVALID', `${options.file} has a header but no rows`);
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (missing.length > 0) {
    throw new ClockfaceError(
      'ROSTER_INVALID',
      `${options.file} lacks the column(s) ${missing.join(', ')}; expected a header row with ${ROSTER_COLUMNS.join(', ')}`,
    );
  }
  const photosDir = options.photosDir === undefined ? undefined : realFolder(options.photosDir);

  const rows: RosterRow[] = [];
  const errors: RowError[] = [];
  const firstLineOf = new Map<string, number>();
  for (const { record: fields, info } of body) {
    const line = info.lines;
    const record = Object.fromEntries(header.map((name, i) => [name, fields[i] ?? '']));
    const rawNo = (record['employee_no'] ?? '').trim() || null;
    const fail = (code: RowErrorCode, reason: string) => errors.push({ line, employeeNo: rawNo, code, reason });
    if (fields.length !== header.length) {
      fail('WRONG_COLUMN_COUNT', `expected ${header.length} fields, found ${fields.length}`);
      continue;
    }
    const parsed = rowSchema.safeParse({
      employee_no: record['employee_no'] ?? '',
      full_name: record['full_name'] ?? '',
      department: record['department'] ?? '',
      site: record['site'] ?? '',
      photos: record['photos'] ?? '',
      pin: record['pin'] ?? '',
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const field = String(issue?.path[0] ?? '');
      fail(errorCodeFor(field, issue?.message ?? ''), issue?.message ?? 'invalid row');
      continue;
    }
    const row = parsed.data;
    const seen = firstLineOf.get(row.employee_no);
    if (seen !== undefined) {
      fail('DUPLICATE_IN_FILE', `employee ${row.employee_no} already appears on line ${seen}`);
      continue;
    }
    firstLineOf.set(row.employee_no, line);

    const entries = row.photos.split(';').map((p) => p.trim()).filter((p) => p !== '');
    if (entries.length > 0 && photosDir === undefined) {
      fail('PHOTOS_WITHOUT_FOLDER', 'photos are listed but no --photos folder was given');
      continue;
    }
    const photos: string[] = [];
    let photoError: { code: RowErrorCode; reason: string } | null = null;
    for (const entry of entries) {
      const checked = checkPhoto(photosDir ?? '', entry);
      if ('code' in checked) {
        photoError = checked;
        break;
      }
      photos.push(checked.path);
    }
    if (photoError) {
      fail(photoError.code, photoError.reason);
      continue;
    }
    rows.push({
      line,
      employeeNo: row.employee_no,
      fullName: row.full_name,
      department: row.department,
      site: row.site,
      photos,
      pin: row.pin === '' ? null : row.pin,
    });
  }
  return { rows, errors };
}

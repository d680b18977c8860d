/**
 * Everything the `clockface` command prints goes through here.
 *
 * Why: much of what it prints comes from central, and central's text is not all IT's own: a kiosk's app version, a
 * name typed at a kiosk, a roster someone else exported. A terminal obeys escape sequences in what it shows (clear
 * the screen, move the cursor, rewrite earlier lines, set the window title), and invisible or direction-changing
 * characters make one string look like another. So every control character (C0 but newline and tab, DEL, C1) and every
 * invisible or bidirectional formatting character is shown as a visible \u{…} escape instead (a carriage return only
 * when it does not end a line: CSV lines end in CRLF, and a lone one rewrites the line on screen). JSON output gets the
 * same characters as JSON's own \uXXXX escapes, so it stays valid JSON.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /\r(?!\n)|[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/** The text with every character that could act on a terminal, or hide, made visible. */
export function terminalSafe(text: string): string {
  return text.replace(UNSAFE, (c) => `\\u{${(c.codePointAt(0) ?? 0).toString(16)}}`);
}

/** One line (or several) on standard output. */
export function printLine(...parts: unknown[]): void {
  console.log(terminalSafe(parts.map(String).join(' ')));
}

/** One line (or several) on standard error. */
export function printError(...parts: unknown[]): void {
  console.error(terminalSafe(parts.map(String).join(' ')));
}

/** A value as indented JSON, with the unsafe characters as JSON escapes (still valid JSON, same value). */
export function safeJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(UNSAFE, (c) => `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`);
}

/** A value as indented JSON on standard output. */
export function printJson(value: unknown): void {
  console.log(safeJson(value));
}

/**
 * A timestamp from central as ISO 8601. PostgreSQL stores 'infinity' and years beyond JavaScript's range, which the
 * driver hands over as something other than a valid Date; those are printed as central has them instead of crashing
 * the command (rows older than the checks of migration 0080 may hold them).
 */
export function isoTime(value: unknown): string {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'invalid time' : value.toISOString();
  return String(value);
}

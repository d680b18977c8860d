/**
 * HTML built from template literals, escaped by default. Every page of the console is rendered on the server from
 * data that people typed (names, reasons, logins), so an interpolation is text unless it is itself `Html` made here:
 * forgetting to escape is impossible rather than a review item. (A template engine would do the same; these ~30
 * lines avoid a second syntax and keep the pages type-checked.)
 */
export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

type Part = Html | string | number | null | undefined | false | readonly Part[];

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

function render(part: Part): string {
  if (part === null || part === undefined || part === false) return '';
  if (part instanceof Html) return part.text;
  if (Array.isArray(part)) return (part as readonly Part[]).map(render).join('');
  return escapeHtml(String(part));
}

export function html(strings: TemplateStringsArray, ...parts: Part[]): Html {
  let out = strings[0] ?? '';
  parts.forEach((part, i) => {
    out += render(part) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

/** Markup produced elsewhere and known to be safe (never anything a person typed). */
export function trusted(text: string): Html {
  return new Html(text);
}

import { el } from './dom.js';
import type { Strings } from './i18n.js';

const DIGITS = ['1', '2', '3', '4', '5', '6', '7', '8', '9'];
const LETTERS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'.split('');

/**
 * An on-screen keypad for the PIN pad and admin sign-in: a touch-only kiosk has no keyboard, and the OS keyboard
 * covers half the screen (or is not installed). It types into whichever of its fields had focus last; the fields
 * ask for no OS keyboard (inputmode="none") but still take a real keyboard's keys. Employee numbers may hold letters
 * (the roster decides), so a field can allow an ABC page.
 */
export class Keypad {
  readonly element: HTMLDivElement;
  private target: HTMLInputElement;
  private letters = false;
  private readonly grid = el('div', { class: 'keypad-keys' });
  private readonly toggle: HTMLButtonElement;

  constructor(
    private readonly t: Strings,
    private readonly fields: Array<{ input: HTMLInputElement; letters: boolean }>,
    /** Called on every key press: the screen's idle timer starts again. */
    private readonly onKey: () => void,
  ) {
    const first = fields[0];
    if (!first) throw new Error('a keypad needs a field');
    this.target = first.input;
    for (const f of fields) {
      f.input.setAttribute('inputmode', 'none');
      f.input.addEventListener('focus', () => this.focusField(f.input));
    }
    this.toggle = el('button', { type: 'button', class: 'key key-toggle', id: 'keypad-toggle', onclick: () => this.flip() }, [t.keypadLetters]);
    this.element = el('div', { class: 'keypad', id: 'keypad', role: 'group' }, [this.grid]);
    this.render();
  }

  private focusField(input: HTMLInputElement): void {
    this.target = input;
    if (!this.allowsLetters()) this.letters = false;
    this.render();
  }

  private allowsLetters(): boolean {
    return this.fields.find((f) => f.input === this.target)?.letters ?? false;
  }

  private flip(): void {
    this.letters = !this.letters;
    this.render();
    this.onKey();
  }

  private press(key: string): void {
    const input = this.target;
    if (key === 'delete') input.value = input.value.slice(0, -1);
    else if (key === 'clear') input.value = '';
    else if (input.maxLength <= 0 || input.value.length < input.maxLength) input.value += key;
    input.dispatchEvent(new Event('input', { bubbles: true }));
    this.onKey();
  }

  private key(label: string, value: string, extra: Record<string, string> = {}): HTMLButtonElement {
    return el('button', { type: 'button', class: 'key', 'data-key': value, onclick: () => this.press(value), ...extra }, [label]);
  }

  private render(): void {
    const t = this.t;
    const characters = this.letters ? [...LETTERS, '-'] : [...DIGITS];
    const keys = characters.map((c) => this.key(c, c));
    if (!this.letters) keys.push(this.key(t.keypadClear, 'clear', { class: 'key key-word' }), this.key('0', '0'), this.key(t.keypadDelete, 'delete', { class: 'key key-word' }));
    else keys.push(this.key(t.keypadDelete, 'delete', { class: 'key key-word' }));
    this.toggle.textContent = this.letters ? t.keypadDigits : t.keypadLetters;
    this.grid.className = this.letters ? 'keypad-keys letters' : 'keypad-keys';
    this.grid.replaceChildren(...keys, ...(this.allowsLetters() ? [this.toggle] : []));
  }
}

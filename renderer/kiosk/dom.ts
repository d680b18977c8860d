type Child = Node | string;
type Attributes = Record<string, string | ((event: Event) => void)>;

/** A tiny element builder: attributes as strings, `on…` as listeners, children as nodes or text (never HTML). */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, children: Child[] = []): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') element.addEventListener(name.slice(2), value);
    else element.setAttribute(name, value);
  }
  element.append(...children);
  return element;
}

/** 09:01 in the kiosk's own time zone (the site's, as the kiosk is set up). */
/**
 * The site's time zone: a kiosk shows its site's time, whatever zone its operating system was installed with.
 * Undefined (the system's zone) until central has told the kiosk, or when central's zone is not one this browser knows.
 */
let siteTimeZone: string | undefined;

export function setSiteTimeZone(timeZone: string | null): void {
  if (timeZone === null) return;
  try {
    new Intl.DateTimeFormat([], { timeZone });
    siteTimeZone = timeZone;
  } catch {
    siteTimeZone = undefined;
  }
}

/**
 * Dates and times in the screen's language, not the browser's: a Chinese browser switched to English shows an English
 * date. The browser's own locale is kept when it is of the same language (en-US keeps its 12-hour clock).
 */
let displayLocale: string | undefined;

export function setDisplayLanguage(language: 'en' | 'zh-CN'): void {
  const browser = navigator.language;
  displayLocale = browser.toLowerCase().startsWith(language === 'en' ? 'en' : 'zh') ? browser : language;
}

export function formatTime(iso: string | Date): string {
  return new Date(iso).toLocaleTimeString(displayLocale, { hour: '2-digit', minute: '2-digit', timeZone: siteTimeZone });
}

export function formatDate(when: Date): string {
  return when.toLocaleDateString(displayLocale, { weekday: 'long', day: 'numeric', month: 'long', timeZone: siteTimeZone });
}

let audio: AudioContext | null = null;

/**
 * Each outcome its own sound, made on the spot (no sound file to ship), so that a person who has already turned away
 * hears which it was: a rising chime only for a new punch; one soft tone for "already"; a low double tone for
 * "not recognised" and a wrong PIN. Silent where audio is not allowed: the screen is what counts.
 */
const SOUNDS = {
  punch: [880, 1320],
  already: [660],
  refused: [330, 262],
} as const;

export function playSound(kind: keyof typeof SOUNDS): void {
  try {
    audio ??= new AudioContext();
    const now = audio.currentTime;
    for (const [i, frequency] of SOUNDS[kind].entries()) {
      const oscillator = audio.createOscillator();
      const gain = audio.createGain();
      oscillator.frequency.value = frequency;
      gain.gain.setValueAtTime(0.2, now + i * 0.12);
      gain.gain.exponentialRampToValueAtTime(0.001, now + i * 0.12 + 0.25);
      oscillator.connect(gain).connect(audio.destination);
      oscillator.start(now + i * 0.12);
      oscillator.stop(now + i * 0.12 + 0.3);
    }
  } catch {
    // No audio device: the large confirmation on screen is what counts.
  }
}

/**
 * Whether any installed font has Chinese glyphs. Without one, Chromium draws every Chinese character as the same
 * "missing glyph" box: '中' then renders exactly like U+10FFFD, a code point no font maps.
 */
export function canShowChinese(): boolean {
  const canvas = document.createElement('canvas');
  canvas.width = 48;
  canvas.height = 48;
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) return true; // cannot tell: do not take the person's language away
  const draw = (text: string): Uint8ClampedArray => {
    context.clearRect(0, 0, 48, 48);
    context.font = '32px system-ui, "Noto Sans CJK SC", sans-serif';
    context.fillStyle = '#000';
    context.fillText(text, 4, 36);
    return context.getImageData(0, 0, 48, 48).data;
  };
  const chinese = draw('中');
  const missing = draw('\u{10FFFD}');
  return chinese.some((v, i) => v !== missing[i]);
}

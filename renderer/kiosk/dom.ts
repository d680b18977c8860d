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

export function formatTime(iso: string | Date): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', timeZone: siteTimeZone });
}

export function formatDate(when: Date): string {
  return when.toLocaleDateString([], { weekday: 'long', day: 'numeric', month: 'long', timeZone: siteTimeZone });
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

import { randomBytes } from 'node:crypto';

export interface Download {
  fileName: string;
  contentType: string;
  body: string;
}

interface Held extends Download {
  sessionId: string;
  expiresAt: number;
}

/**
 * Files the console hands out once, to the session that made them, for a few minutes: a new kiosk's settings, which
 * hold its password. They live in this process's memory only, are gone after the first download, and are never written
 * anywhere. (A `data:` link would put the password in the page's markup for good, and the CSP refuses inline script to
 * build a Blob; a same-origin link to a token is what a browser saves without either.)
 */
export class OneTimeDownloads {
  private readonly held = new Map<string, Held>();

  constructor(
    private readonly ttlMs = 5 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Keeps `download` for `sessionId`; returns the token that fetches it. */
  offer(sessionId: string, download: Download): string {
    this.sweep();
    const token = randomBytes(32).toString('base64url');
    this.held.set(token, { ...download, sessionId, expiresAt: this.now() + this.ttlMs });
    return token;
  }

  /**
   * The download behind `token` for this session, given out once; null when there is none (never made, taken already,
   * expired, or another session's: that one stays for its owner).
   */
  take(token: string, sessionId: string): Download | null {
    this.sweep();
    const held = this.held.get(token);
    if (!held || held.sessionId !== sessionId) return null;
    this.held.delete(token);
    return { fileName: held.fileName, contentType: held.contentType, body: held.body };
  }

  private sweep(): void {
    const now = this.now();
    for (const [token, held] of this.held) if (held.expiresAt <= now) this.held.delete(token);
  }
}

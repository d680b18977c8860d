import type { Locator } from 'playwright-core';
import { expect } from 'vitest';

/**
 * Waits for what a person would read on the page (playwright-core has no web-first assertions; vitest's poll gives
 * the same: retry until it holds or the time is up, then fail with what the page says).
 */
const read = async (locator: Locator): Promise<string> => ((await locator.count()) === 0 ? '' : ((await locator.first().innerText()) ?? '').replace(/\s+/g, ' ').trim());

export async function textContains(locator: Locator, text: string, timeout = 10_000): Promise<void> {
  await expect.poll(() => read(locator), { timeout }).toContain(text);
}

export async function textIs(locator: Locator, text: string | RegExp, timeout = 10_000): Promise<void> {
  if (typeof text === 'string') await expect.poll(() => read(locator), { timeout }).toBe(text);
  else await expect.poll(() => read(locator), { timeout }).toMatch(text);
}

/** What must not be there once the page has loaded (read once: absence cannot be waited for). */
export async function textLacks(locator: Locator, text: string): Promise<void> {
  expect(await read(locator)).not.toContain(text);
}

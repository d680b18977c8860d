import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/**
 * PINs for the kiosk's fallback, stored only as a slow salted scrypt hash: `scrypt$N$r$p$salt$hash` (base64).
 *
 * A 4–8 digit PIN has too few values for any hash to protect it against someone holding the hash and unlimited
 * time; the cost here makes each guess expensive, and the kiosk's lock-out after wrong tries is what stops guessing
 * at the screen. Kiosks receive the hashes (to check PINs offline), never the PINs.
 */
const N = 2 ** 15;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
const MAXMEM = 64 * 1024 * 1024; // N × r × 128 = 32 MiB, above Node's 32 MiB default limit with its overhead

/** Any PIN a person may type: 4-digit PINs set before the 6-digit rule keep working. */
export const PIN_PATTERN = /^\d{4,8}$/;

/**
 * A PIN set or changed from now on: at least 6 digits. Every kiosk holds the hashes of the sites it serves (to check
 * PINs offline), so anyone with a kiosk's database password can read them: at this cost (about 15 ms a guess here), all
 * 10,000 four-digit PINs fall in minutes (148 s seen in an attack on one core), while a million six-digit ones take
 * hours per PIN. A per-site pepper would not help against that attacker, who reads it where the kiosk keeps it.
 */
export const NEW_PIN_PATTERN = /^\d{6,8}$/;

function derive(pin: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    scrypt(pin.normalize('NFKC'), salt, KEY_LENGTH, { N: n, r, p, maxmem: MAXMEM }, (error, key) =>
      error ? reject(error) : resolve(key),
    );
  });
}

/** A secret (a PIN, the embedded console's admin password) as `scrypt$N$r$p$salt$hash`. */
export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, N, R, P);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64')}$${key.toString('base64')}`;
}

/** Whether `secret` is the one `stored` (from {@link hashSecret}) was made of; false for anything malformed. */
export async function verifySecret(secret: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(secret, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return key.length === expected.length && timingSafeEqual(key, expected);
}

export async function hashPin(pin: string): Promise<string> {
  if (!PIN_PATTERN.test(pin)) throw new Error('a PIN is 4 to 8 digits');
  return hashSecret(pin);
}

export const verifyPin = verifySecret;

/**
 * How often a kiosk polls central's roster feed unless its kiosk.json says otherwise (`pollSeconds`). Each poll ends
 * in an upload round with a heartbeat, so this is also the heartbeat interval IT's fleet view expects of a kiosk that
 * has not told central its own (electron/central/kiosk-fleet.ts).
 */
export const DEFAULT_POLL_SECONDS = 30;

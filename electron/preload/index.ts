/**
 * Preload entry. Will expose exactly the typed KioskApi contract from shared/ (a later issue); nothing else.
 */
export const PRELOAD_ROOM = 'preload';

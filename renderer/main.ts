/**
 * Renderer entry (browser code only). The clock-in screen is built by a later issue; this file keeps the renderer's
 * TypeScript configuration honest from the first commit.
 */
export const RENDERER_ROOM = 'renderer';

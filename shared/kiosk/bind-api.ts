import type { Result } from '../errors.js';
import type { KioskApi, KioskChannel, KioskRequest, KioskResponses } from './contract.js';

// Types only from the contract: the sandboxed preload imports this file and must not pull in the schemas (zod).
/**
 * The contract as functions over one transport (`send`: IPC, HTTP, or the service itself). Listing each channel
 * here, not looping over KIOSK_CHANNELS, lets the compiler check that none is missing.
 */
export function bindKioskApi(send: (channel: KioskChannel, request: unknown) => Promise<Result<unknown>>): KioskApi {
  const bind =
    <C extends KioskChannel>(channel: C) =>
    (request: KioskRequest<C>) =>
      send(channel, request) as Promise<Result<KioskResponses[C]>>;
  return {
    submitFrame: bind('submitFrame'),
    resetFrames: bind('resetFrames'),
    punchWithPin: bind('punchWithPin'),
    confirmPunch: bind('confirmPunch'),
    getStatus: bind('getStatus'),
    unlockAdmin: bind('unlockAdmin'),
    setAdminPin: bind('setAdminPin'),
    lockAdmin: bind('lockAdmin'),
    enrolEmployee: bind('enrolEmployee'),
    syncNow: bind('syncNow'),
    attachSnapshot: bind('attachSnapshot'),
    reportProblem: bind('reportProblem'),
    exitKiosk: bind('exitKiosk'),
    updateSettings: bind('updateSettings'),
  } satisfies KioskApi;
}


/**
 * A kiosk in its own process, for tests that SIGKILL it (test/faults/kill-campaign.test.ts): the real KioskCore and
 * KioskService, without the face models (frames arrive as descriptors, as the screen sends them), so that a kill loop
 * spends its time in punch writing and upload rather than in loading models.
 *
 *   node --import tsx test/support/kiosk-child.ts punch DIR FACES.json START_MS
 *     Opens the kiosk folder, prints READY, then punches as fast as it can until killed: each punch is two agreeing
 *     frames of the next employee of FACES.json ({ employeeId: descriptor[] } as the roster holds them) through
 *     KioskService.handle('submitFrame'), with a kiosk clock that starts at START_MS and steps 61 s per punch (past
 *     the 60 s debounce). After the call returned a punch, prints `CONFIRMED <id> <employeeId> <direction> <at>`:
 *     what the screen would have shown the person. The service uploads in the background after each punch, as it
 *     does on a real kiosk.
 *   node --import tsx test/support/kiosk-child.ts upload DIR
 *     Prints READY, uploads the outbox (KioskCore.upload: batches, then a heartbeat), prints `UPLOADED <n>`.
 *
 * Lines go to stdout, which is a pipe: synchronous on Linux, so a line printed before the kill reaches the parent.
 */
import { readFileSync } from 'node:fs';
import { KioskCore } from '../../electron/kiosk/kiosk-core.js';
import { KioskService } from '../../electron/kiosk/kiosk-service.js';
import { FACE_MODEL_ID } from '../../shared/face-model.js';
import { TestClock } from './test-clock.js';

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

async function punchForever(dir: string, facesFile: string, startMs: number): Promise<void> {
  const faces = Object.entries(JSON.parse(readFileSync(facesFile, 'utf8')) as Record<string, number[]>).map(
    ([id, descriptor]) => ({ id: Number(id), descriptor }),
  );
  // 61 s of kiosk time (wall and monotonic clock alike) pass between punches that are really milliseconds apart.
  const clock = new TestClock(new Date(startMs));
  const core = KioskCore.open(dir, { clock });
  const service = new KioskService(core, { follow: false });
  say('READY');
  // A tiny per-frame jitter, deterministic, so that two frames are never bit-identical (as a camera's are not).
  let jitter = 0;
  for (let i = 0; ; i++) {
    clock.elapse(61_000);
    const face = faces[i % faces.length];
    if (!face) throw new Error('no faces given');
    await service.handle('resetFrames', {});
    // A clear frame decides alone (the single-frame rule); a second is sent only while the first is pending.
    let last: unknown = null;
    for (let frame = 0; frame < 2; frame++) {
      jitter = (jitter + 1) % 7;
      const descriptor = face.descriptor.map((v, k) => v + (k === jitter ? 0.001 : 0));
      last = await service.handle('submitFrame', { modelId: FACE_MODEL_ID, descriptor, issues: [], yaw: 0 });
      if ((last as { value?: { kind?: string } }).value?.kind !== 'pending') break;
    }
    const r = last as { ok: boolean; value?: { kind: string; punchId?: string; direction?: string; at?: string }; error?: unknown };
    if (!r.ok || r.value?.kind !== 'punched') {
      say(`UNEXPECTED ${JSON.stringify(r)}`);
      process.exit(3);
    }
    say(`CONFIRMED ${r.value.punchId} ${face.id} ${r.value.direction} ${r.value.at}`);
  }
}

async function uploadOnce(dir: string): Promise<void> {
  const core = KioskCore.open(dir);
  say('READY');
  const stored = await core.upload();
  const status = core.uploader.getStatus();
  say(`UPLOADED ${stored} pending ${status.pending} error ${status.uploadError?.message ?? '-'}`);
  core.close();
}

const [mode, dir, ...rest] = process.argv.slice(2);
if (mode === 'punch' && dir && rest[0] && rest[1]) {
  await punchForever(dir, rest[0], Number(rest[1]));
} else if (mode === 'upload' && dir) {
  await uploadOnce(dir);
} else {
  process.stderr.write('usage: kiosk-child.ts punch DIR FACES.json START_MS | upload DIR\n');
  process.exit(2);
}

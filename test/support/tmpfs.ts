import { execFileSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SystemPart } from './system-parts.js';

/**
 * A small tmpfs, for a kiosk folder whose disk can be filled (test/faults/disk-full.test.ts). Mounting needs root
 * (or CAP_SYS_ADMIN): CI runs as root on Debian 12, and so does this project's machine.
 */
export function mountTmpfs(sizeBytes: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'clockface-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${sizeBytes},mode=0700`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return dir;
}

/** Unmounts (lazily, so that a file a failed test left open cannot keep it mounted) and removes the mount point. */
export function unmountTmpfs(dir: string): void {
  execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
  rmSync(dir, { recursive: true, force: true });
}

let probed: { present: boolean; error: string } | null = null;

/** Whether this process may mount a tmpfs: tried once, for real (a mount and an unmount). */
export function tmpfsPart(): SystemPart {
  if (probed === null) {
    try {
      unmountTmpfs(mountTmpfs(1 << 20));
      probed = { present: true, error: '' };
    } catch (e) {
      probed = { present: false, error: ((e as { stderr?: Buffer }).stderr?.toString() ?? (e as Error).message).trim() };
    }
  }
  return {
    name: `mounting a tmpfs (\`mount -t tmpfs\`)${probed.present ? '' : `: ${probed.error}`}`,
    present: probed.present,
    howTo: 'run the faults tests as root (as CI does), or in a container with CAP_SYS_ADMIN',
  };
}

/** Fills the file system of `dir` with a filler file until it refuses the next byte, leaving `leaveBytes` free. */
export function fillDisk(dir: string, leaveBytes = 0): { free: () => void; filled: number; left: number } {
  const reserve = join(dir, 'reserve.bin');
  if (leaveBytes > 0) writeFileSync(reserve, Buffer.alloc(leaveBytes, 1));
  const filler = join(dir, 'filler.bin');
  const fd = openSync(filler, 'w');
  let filled = 0;
  try {
    // Ever smaller writes, down to single bytes: the file system ends truly full, not merely short of a megabyte.
    for (const size of [1 << 20, 1 << 16, 4096, 256, 16, 1]) {
      const chunk = Buffer.alloc(size, 0xaa);
      for (;;) {
        try {
          const n = writeSync(fd, chunk);
          filled += n;
          if (n < size) break;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  if (leaveBytes > 0) rmSync(reserve);
  const s = statfsSync(dir);
  return { free: () => rmSync(filler, { force: true }), filled, left: s.bavail * s.bsize };
}

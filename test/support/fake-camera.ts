import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { SystemPart } from './system-parts.js';

const FFMPEG = '/usr/bin/ffmpeg';

export function ffmpegPart(): SystemPart {
  let present = false;
  try {
    present = statSync(FFMPEG).isFile();
  } catch {
    present = false;
  }
  return { name: `ffmpeg (${FFMPEG}, for the fake camera)`, present, howTo: 'run `sudo apt-get install ffmpeg` (Debian)' };
}

/**
 * A fake webcam video from still photos (Chromium plays it through getUserMedia with
 * --use-file-for-fake-video-capture): each photo for `secondsEach`, the face scaled to about half the frame
 * height and centred on grey, 640×480 at 10 fps, looping. An empty list makes a camera that sees nobody.
 * `framing: 'scene'` takes photos that are whole 640×480 scenes already (two people, a face far away) as they are.
 */
export function makeFakeCamera(dir: string, name: string, photos: readonly string[], secondsEach = 2, framing: 'face' | 'scene' = 'face'): string {
  const out = join(dir, `${name}.y4m`);
  const inputs = photos.length > 0 ? photos : [];
  const args: string[] = ['-y', '-loglevel', 'error'];
  if (inputs.length === 0) {
    args.push('-f', 'lavfi', '-i', `color=c=gray:s=640x480:r=10:d=${secondsEach}`);
  } else {
    for (const photo of inputs) args.push('-loop', '1', '-t', String(secondsEach), '-i', photo);
  }
  const fit = framing === 'face' ? 'scale=-2:240,pad=640:480:(ow-iw)/2:(oh-ih)/2:color=gray' : 'scale=640:480';
  const scale = `${fit},fps=10,format=yuv420p,setsar=1`;
  const filter =
    inputs.length === 0
      ? 'format=yuv420p'
      : `${inputs.map((_, i) => `[${i}:v]${scale}[v${i}]`).join(';')};${inputs.map((_, i) => `[v${i}]`).join('')}concat=n=${inputs.length}:v=1:a=0[out]`;
  if (inputs.length === 0) args.push('-vf', filter);
  else args.push('-filter_complex', filter, '-map', '[out]');
  args.push('-pix_fmt', 'yuv420p', out);
  execFileSync(FFMPEG, args);
  return out;
}

/** Chromium flags that make getUserMedia play `video` without asking. */
export function fakeCameraArgs(video: string): string[] {
  return ['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', `--use-file-for-fake-video-capture=${video}`];
}

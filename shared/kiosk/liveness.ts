/**
 * The optional active check against holding up a photo: after a face is recognised, the person is asked to turn
 * their head to a side chosen at random, and the punch is made only when a frame shows that turn (yaw from the
 * landmarks, see shared/face/head-pose.ts) of the same face while no other person is recognised, within a time limit. A printed
 * photo cannot turn; a phone video of a colleague would have to turn the right way at the right moment.
 *
 * Directions are the person's own: turning to their left moves the nose towards the right of the (unmirrored)
 * camera image, which is positive yaw.
 */
export type TurnDirection = 'left' | 'right';

export interface LivenessConfig {
  /** Degrees of yaw that count as a turn. The quality gate refuses frames past 30°, so stay well below it. */
  minYaw: number;
  /** How long the person has to turn. */
  timeoutSeconds: number;
}

export const DEFAULT_LIVENESS: LivenessConfig = { minYaw: 12, timeoutSeconds: 8 };

export interface LivenessFrame {
  /** The employee this frame names, if any (null: nobody, or no usable descriptor). */
  employeeId: number | null;
  /** Head yaw in degrees, or null without a face. */
  yaw: number | null;
  /**
   * The face in this frame is the one that was recognised (within the threshold of the frame that started the
   * check, or of the person's templates). Without it, holding up a colleague's photo and then turning one's own,
   * unenrolled head would pass: an unrecognised face is "nobody else", but it is not the person either.
   */
  sameFace: boolean;
}

export type LivenessState =
  | { kind: 'waiting'; direction: TurnDirection }
  | { kind: 'passed' }
  | { kind: 'failed'; reason: 'timeout' | 'someone-else' };

export class LivenessChallenge {
  private readonly deadline: number;

  constructor(
    readonly employeeId: number,
    readonly direction: TurnDirection,
    startedAt: Date,
    private readonly config: LivenessConfig = DEFAULT_LIVENESS,
  ) {
    this.deadline = startedAt.getTime() + config.timeoutSeconds * 1000;
  }

  static start(employeeId: number, startedAt: Date, random: () => number, config?: LivenessConfig): LivenessChallenge {
    return new LivenessChallenge(employeeId, random() < 0.5 ? 'left' : 'right', startedAt, config);
  }

  onFrame(frame: LivenessFrame, now: Date): LivenessState {
    if (now.getTime() > this.deadline) return { kind: 'failed', reason: 'timeout' };
    if (frame.employeeId !== null && frame.employeeId !== this.employeeId) return { kind: 'failed', reason: 'someone-else' };
    if (frame.yaw === null) return { kind: 'waiting', direction: this.direction };
    const turned = this.direction === 'left' ? frame.yaw >= this.config.minYaw : frame.yaw <= -this.config.minYaw;
    return turned && frame.sameFace ? { kind: 'passed' } : { kind: 'waiting', direction: this.direction };
  }
}

import { describe, expect, it } from 'vitest';
import { ClockfaceError } from '../errors.js';
import { descriptorDistance, checkDescriptorValues } from './descriptor.js';
import { leaveOneOut, operatingPoint } from './evaluation.js';
import { padRgb, rgbaToRgb } from './pad.js';
import { distribution } from '../stats/distribution.js';

describe('operating points', () => {
  it('TAR at a FAR target accepts at most floor(target × impostors) impostors', () => {
    const impostor = Array.from({ length: 200 }, (_, i) => 0.6 + i * 0.001); // 0.600 … 0.799
    const genuine = [0.3, 0.5, 0.601, 0.61, 0.7];
    const p = operatingPoint(genuine, impostor, 0.01); // 2 false accepts allowed
    expect(p.allowedFalseAccepts).toBe(2);
    expect(p.threshold).toBeCloseTo(0.602, 6);
    expect(p.far).toBe(2 / 200);
    expect(p.tar).toBe(3 / 5);
    expect(p.underResolved).toBe(false);
    const strict = operatingPoint(genuine, impostor, 0.001);
    expect(strict.allowedFalseAccepts).toBe(0);
    expect(strict.far).toBe(0);
    expect(strict.tar).toBe(2 / 5);
    expect(strict.underResolved).toBe(true);
  });
});

describe('leave-one-out identification', () => {
  const v = (...xs: number[]) => Float32Array.from(xs);
  it('counts correct probes, margins and mistakes by person', () => {
    const report = leaveOneOut([
      { id: 'a1', label: 'a', values: v(0, 0) },
      { id: 'a2', label: 'a', values: v(0, 1) },
      { id: 'b1', label: 'b', values: v(5, 0) },
      { id: 'b2', label: 'b', values: v(0.5, 0) }, // closer to a than to b1: misidentified
      { id: 'c1', label: 'c', values: v(9, 9) }, // alone: not a probe
    ]);
    expect(report.probes).toBe(4);
    expect(report.rank1Correct).toBe(2); // a2 and b1; a1's nearest is b2 (0.5 away), and b2's is a1
    expect(report.misidentified.map((m) => m.id).sort()).toEqual(['a1', 'b2']);
    expect(report.genuine).toHaveLength(2);
    expect(report.impostor).toHaveLength(8);
  });
});

describe('descriptors', () => {
  const d = (modelId: string, fill = 0.1) => ({ modelId, values: new Float32Array(128).fill(fill) });
  it('refuses to compare descriptors of different models', () => {
    expect(() => descriptorDistance(d('faceapi-resnet128@1'), d('other@1'))).toThrow(ClockfaceError);
    expect(() => descriptorDistance(d('faceapi-resnet128@1'), d('other@1'))).toThrow(/different models/);
    expect(descriptorDistance(d('m'), d('m', 0.2))).toBeCloseTo(Math.sqrt(128 * 0.01), 5);
  });
  it('refuses a wrong length or a NaN', () => {
    expect(() => checkDescriptorValues(new Float32Array(127))).toThrow(/128 values, got 127/);
    const nan = new Float32Array(128);
    nan[3] = Number.NaN;
    expect(() => checkDescriptorValues(nan)).toThrow(/value 3 is not a finite number/);
  });
});

describe('pixels and statistics', () => {
  it('pads with grey and converts RGBA', () => {
    const img = { width: 1, height: 1, data: Uint8Array.from([1, 2, 3]) };
    const padded = padRgb(img, 1);
    expect([padded.width, padded.height]).toEqual([3, 3]);
    expect(Array.from(padded.data.subarray(12, 15))).toEqual([1, 2, 3]);
    expect(padded.data[0]).toBe(128);
    expect(Array.from(rgbaToRgb(Uint8Array.from([9, 8, 7, 255, 1, 2, 3, 0]), 2, 1).data)).toEqual([9, 8, 7, 1, 2, 3]);
  });
  it('summarises a distribution', () => {
    const s = distribution([5, 1, 3, 2, 4]);
    expect(s).toMatchObject({ n: 5, min: 1, median: 3, max: 5 });
  });
});

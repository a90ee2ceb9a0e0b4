import { describe, expect, it } from 'vitest';
import { throughputLimit } from '../../src/controller/throughput.js';
import { demoCell } from './helpers.js';

describe('throughput limit of the demo cell, from its description alone', () => {
  const limit = throughputLimit(demoCell());
  const busy = (name: string) => limit.resources.find((r) => r.resource === name)!.busyMsPerPart;

  it('matches the hand calculation in the README', () => {
    // Arm: four short moves of 333.3 ms + 50 ms settle, two transfers of 1500 + 50 ms, grip 150, release 100.
    expect(busy('arm')).toBeCloseTo(4 * (1000 / 3 + 50) + 2 * 1550 + 150 + 100, 6);
    expect(busy('feeder')).toBe(1200 + 10);
    expect(busy('conveyor')).toBeCloseTo(1000, 6);
    // Pick zone: the descent (whole move: it heads into the zone from its start), the grip, the part
    // of the lift still inside the zone (joint_5 leaves the 0.1 rad margin after 0.1/0.5 of the way),
    // and the feeder's feed, which the interlock keeps out of the zone while the arm is there.
    expect(busy('pick_zone')).toBeCloseTo(383.333 + 150 + 333.333 * 0.2 + 1210, 2);
    expect(busy('conveyor_zone')).toBeCloseTo(383.333 + 100 + 333.333 * 0.2 + 1000, 2);
  });

  it('names the arm as the bottleneck and gives parts per minute', () => {
    expect(limit.bottleneck.resource).toBe('arm');
    expect(limit.partsPerMinute).toBeCloseTo(60_000 / busy('arm'), 9);
  });

  it('follows the description: a slower conveyor becomes the bottleneck', () => {
    const cell = demoCell();
    const conveyor = cell.devices.conveyor!;
    if (conveyor.kind !== 'conveyor') throw new Error('demo conveyor');
    conveyor.axis.maxSpeedMmS = 50;
    const slow = throughputLimit(cell);
    expect(slow.bottleneck.resource).toBe('conveyor_zone');
    expect(slow.partsPerMinute).toBeLessThan(limit.partsPerMinute);
  });
});

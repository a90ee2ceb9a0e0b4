/** SimConveyor.followBelt: the simulator's belt moved from outside (the rig's stepper physics). */
import { expect, it } from 'vitest';
import { createSimulatedCell, DeviceLogNone } from '../../src/sim/index.js';
import { SimConveyor } from '../../src/sim/conveyor.js';
import { VirtualClock } from '../../src/time/clock.js';
import { demoSerial } from './helpers.js';

it('takes the outside belt position, re-reads the home mark, and refuses while moving by itself', () => {
  const { cell, conveyor: desc } = demoSerial();
  const sim = createSimulatedCell(cell, new VirtualClock(), { seed: 3, deviceLog: new DeviceLogNone() });
  const conveyor = sim.drivers.get('conveyor');
  if (!(conveyor instanceof SimConveyor)) throw new Error('the simulated conveyor is a SimConveyor');
  conveyor.configure();
  conveyor.activate();
  conveyor.followBelt(desc.indexMm * 2 + 0.5);
  expect(conveyor.read().inputs.home).toBe(true);
  conveyor.followBelt(desc.indexMm * 2 + 40);
  expect(conveyor.read().inputs.home).toBe(false);
  conveyor.write({ type: 'index', steps: 100 });
  expect(() => conveyor.followBelt(0)).toThrow(/moving by itself/);
});

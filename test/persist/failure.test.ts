/** Bad calls get clear errors; a failing disk stops the store loudly instead of losing intents quietly. */
import { describe, expect, it } from 'vitest';
import { LOG_FILE, MemoryFs, openFileStore } from '../../src/persist/index.js';
import { EXPECT, belief, intent } from './helpers.js';

async function openStore(fs = new MemoryFs()) {
  const store = openFileStore('/cell', { fs });
  await store.open(EXPECT);
  return store;
}

describe('bad calls', () => {
  it('refuses calls before open', async () => {
    const store = openFileStore('/cell', { fs: new MemoryFs() });
    await expect(store.writeIntent(intent(1))).rejects.toThrow(/durable store \/cell: writeIntent\(1\) while the store is not opened yet/);
    expect(() => store.writeOutcome(1, 'sent')).toThrow(/not opened yet/);
    expect(() => store.saveBelief(belief(1))).toThrow(/not opened yet/);
  });

  it('refuses seqs that do not increase, and says where to take the next one', async () => {
    const store = await openStore();
    await store.writeIntent(intent(5));
    await expect(store.writeIntent(intent(5))).rejects.toThrow(/intent seq 5 \(conveyor conveyor\.step5\) is not above the last recorded seq 5; .* nextSeq\(\)/);
    await expect(store.writeIntent({ ...intent(6), seq: 6.5 })).rejects.toThrow(/intent seq 6\.5 is not a positive integer/);
    await expect(store.writeIntent({ ...intent(6), device: '' })).rejects.toThrow(/intent 6: device must be a non-empty string/);
    expect(store.nextSeq()).toBe(6);
  });

  it('refuses commands JSON would silently change, naming the member', async () => {
    const store = await openStore();
    await expect(store.writeIntent({ ...intent(1), command: { joints: [0, Number.NaN] } })).rejects.toThrow(/intent 1 \(conveyor conveyor\.step1\) cannot be persisted as JSON: command.joints\[1\] is NaN/);
    await expect(store.writeIntent({ ...intent(1), command: { target: Infinity } })).rejects.toThrow(/command.target is Infinity/);
    // A refused intent takes no seq.
    expect(store.nextSeq()).toBe(1);
  });

  it('refuses outcomes for intents never recorded and unknown outcome words', async () => {
    const store = await openStore();
    await store.writeIntent(intent(1));
    expect(() => store.writeOutcome(2, 'confirmed')).toThrow(/outcome confirmed for intent 2: no such intent was recorded \(last seq 1\)/);
    expect(() => store.writeOutcome(1, 'done' as never)).toThrow(/"done" is not one of sent, confirmed, missed, abandoned/);
  });

  it('refuses a belief for another machine version or cell description', async () => {
    const store = await openStore();
    expect(() => store.saveBelief({ ...belief(1), cellHash: 'f'.repeat(64) })).toThrow(/saveBelief: the belief is for machine version "cell-machine-3" and cell ffffffffffff, the store was opened for "cell-machine-3" and c0ffee000000/);
    expect(() => store.saveBelief({ ...belief(1), format: 2 as never })).toThrow(/format must be 1/);
  });
});

describe('a failing disk', () => {
  it('rejects the intent whose fsync failed and every later one, reports once, and never resolves an intent it could not sync', async () => {
    let failing = false;
    const fs = new MemoryFs();
    fs.failWith = (op) => (failing && op.op === 'datasync' && op.path === `/cell/${LOG_FILE}` ? Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }) : undefined);
    const failures: Error[] = [];
    const store = openFileStore('/cell', { fs, onFailure: (e) => failures.push(e) });
    await store.open(EXPECT);
    await store.writeIntent(intent(1));
    failing = true;
    const second = store.writeIntent(intent(2));
    store.writeOutcome(1, 'confirmed');
    const third = store.writeIntent(intent(3));
    await expect(second).rejects.toThrow(/durable store \/cell: appending to intents\.log failed \(EIO: i\/o error, fdatasync\); nothing more is persisted, so no further motion command may be sent/);
    await expect(third).rejects.toThrow(/appending to intents\.log failed/);
    await expect(store.writeIntent(intent(4))).rejects.toThrow(/appending to intents\.log failed/);
    await expect(store.flush()).rejects.toThrow(/appending to intents\.log failed/);
    expect(() => store.saveBelief(belief(1))).not.toThrow();
    expect(failures).toHaveLength(1);
  });

  it('a failed belief replacement leaves the previous belief loadable', async () => {
    const fs = new MemoryFs();
    const store = openFileStore('/cell', { fs });
    await store.open(EXPECT);
    store.saveBelief(belief(1));
    await store.flush();
    fs.failWith = (op) => (op.op === 'rename' && op.to === '/cell/belief.json' ? new Error('ENOSPC: no space left on device') : undefined);
    store.saveBelief(belief(2));
    await expect(store.flush()).rejects.toThrow(/replacing belief\.json failed \(ENOSPC: no space left on device\)/);
    await expect(store.writeIntent(intent(1))).rejects.toThrow(/replacing belief\.json failed/);
    const reopened = await openFileStore('/cell', { fs: fs.afterPowerLoss() }).open(EXPECT);
    expect(reopened).toMatchObject({ kind: 'loaded', belief: belief(1) });
  });
});

describe('opening fails loudly', () => {
  it('names the directory and the cause when the state directory cannot be read', async () => {
    const fs = new MemoryFs();
    fs.failWith = (op) => (op.op === 'readFile' ? Object.assign(new Error('EACCES: permission denied, open /cell/belief.json'), { code: 'EACCES' }) : undefined);
    await expect(openFileStore('/cell', { fs }).open(EXPECT)).rejects.toThrow(/durable store \/cell: open failed \(EACCES: permission denied, open \/cell\/belief\.json\); the controller must not start without its durable state/);
  });
});

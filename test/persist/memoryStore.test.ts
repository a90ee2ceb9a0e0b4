/** The memory store keeps the file store's rules, synchronously, and survives a simulated restart. */
import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../src/persist/index.js';
import { EXPECT, belief, intent } from './helpers.js';

describe('MemoryStore', () => {
  it('records calls, takes effect at once, and reopens after a simulated crash with belief and open intents', async () => {
    const store = new MemoryStore();
    expect(await store.open(EXPECT)).toEqual({ kind: 'fresh', openIntents: [], nextSeq: 1, warnings: [] });
    let resolved = false;
    void store.writeIntent(intent(1)).then(() => (resolved = true));
    await Promise.resolve();
    expect(resolved, 'resolves without waiting for any timer (virtual time)').toBe(true);
    store.writeOutcome(1, 'sent');
    store.writeOutcome(1, 'confirmed');
    const saved = belief(1);
    store.saveBelief(saved);
    (saved.belief as { generation: number }).generation = 99; // the caller mutating afterwards changes nothing
    await store.writeIntent(intent(2, 'arm'));
    store.writeOutcome(2, 'sent');
    expect(store.durableBelief()).toEqual(belief(1));
    expect(store.openIntents()).toEqual([{ ...intent(2, 'arm'), sent: true }]);
    expect(store.calls.map((c) => c.op)).toEqual(['open', 'writeIntent', 'writeOutcome', 'writeOutcome', 'saveBelief', 'writeIntent', 'writeOutcome']);
    // Crash: the store is dropped; a new one opens the same disk.
    const restarted = new MemoryStore(store.disk);
    expect(await restarted.open(EXPECT)).toEqual({
      kind: 'loaded',
      belief: belief(1),
      openIntents: [{ ...intent(2, 'arm'), sent: true }],
      settledSinceBelief: [],
      nextSeq: 3,
      warnings: [],
    });
    await expect(restarted.writeIntent(intent(2))).rejects.toThrow(/not above the last recorded seq 2/);
  });

  it('sets aside a disk written for another cell description, never loading it', async () => {
    const store = new MemoryStore();
    await store.open(EXPECT);
    store.saveBelief(belief(1));
    const other = { ...EXPECT, cellHash: 'd'.repeat(64) };
    const restarted = new MemoryStore(store.disk);
    const result = await restarted.open(other);
    expect(result).toMatchObject({ kind: 'setAside', movedTo: 'memory:set-aside/1' });
    if (result.kind === 'setAside') expect(result.reason).toMatch(/cell description c0ffee000000, expected dddddddddddd/);
    expect(restarted.durableBelief()).toBeUndefined();
    expect(store.disk.setAside[0]!.belief?.persisted).toEqual(belief(1));
  });

  it('a failed disk rejects intents and flushes', async () => {
    const store = new MemoryStore();
    await store.open(EXPECT);
    store.fail(new Error('disk gone'));
    await expect(store.writeIntent(intent(1))).rejects.toThrow('disk gone');
    await expect(store.flush()).rejects.toThrow('disk gone');
  });
});

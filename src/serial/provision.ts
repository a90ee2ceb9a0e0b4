/**
 * Provisioning: write a board's station id, watchdog, safe values, e-stop contact and the cell
 * description hash into its EEPROM (PROVISION), as the commissioning engineer does once per
 * board and again whenever the cell description changes. The controller never provisions on its
 * own: a board provisioned for another description is refused, not silently rewritten.
 */
import type { CellDescription } from '../cell/schema.js';
import { boardMap } from './boardMap.js';
import { StationPort } from './port.js';
import { ackStatusText, decodeBoot, encodeProvision, MSG, type BootInfo, type ProvisionBody } from './protocol.js';
import { defaultEpoch } from './station.js';

export async function provisionBoard(path: string, baud: number, body: ProvisionBody, epoch = defaultEpoch()): Promise<BootInfo> {
  // The board writes its EEPROM (3.4 ms a byte) before it acknowledges: generous retries.
  const port = new StationPort({ path, baud, epoch, ackTimeoutMs: 300, tries: 15 });
  await port.open();
  try {
    const boot = new Promise<BootInfo>((resolve) => {
      port.onFrame = (frame) => {
        if (frame.type !== MSG.boot) return;
        const b = decodeBoot(frame.body);
        if (b.ok && b.value.provisioned && b.value.stationId === body.stationId) resolve(b.value);
      };
    });
    // A QUERY opens the session, so the board cannot take our first command for a retransmission.
    port.send(MSG.query);
    const result = await port.command(MSG.provision, encodeProvision(body));
    if (result.status === undefined) {
      throw new Error(`no station board answered on ${path} (${result.transmissions} tries; ${port.stats.framesIn} frames received, ${port.stats.crcErrorsIn + port.stats.framingErrorsIn} bad)`);
    }
    if (result.status !== 0) throw new Error(`the station board on ${path} refused provisioning: ${ackStatusText(result.status)}`);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`the station board on ${path} sent no boot frame after provisioning`)), 2000);
    });
    try {
      return await Promise.race([boot, timeout]);
    } finally {
      clearTimeout(timer);
    }
  } finally {
    await port.close();
  }
}

/** Provision the board of one serial link for this cell description. */
export async function provisionLink(cell: CellDescription, hash: string, link: string, path?: string): Promise<BootInfo> {
  const map = boardMap(cell, link, hash);
  return provisionBoard(path ?? map.path, map.baud, map.provision);
}

/** Intel HEX, as avr-objcopy writes it: data records (00), end of file (01), extended addresses (02, 04). */
export function parseIntelHex(text: string, source = 'firmware image', sizeBytes = 0x8000): Uint8Array {
  const image = new Uint8Array(sizeBytes).fill(0xff);
  let base = 0;
  let sawEnd = false;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `${source}:${i + 1}`;
    if (sawEnd) throw new Error(`${where}: data after the end-of-file record`);
    if (!/^:([0-9A-Fa-f]{2}){5,}$/.test(line)) throw new Error(`${where}: not an Intel HEX record ("${line.slice(0, 20)}")`);
    const bytes = Uint8Array.from(line.slice(1).match(/../g)!.map((h) => parseInt(h, 16)));
    const count = bytes[0]!;
    if (bytes.length !== count + 5) throw new Error(`${where}: record says ${count} data bytes but holds ${bytes.length - 5}`);
    const sum = bytes.reduce((s, b) => (s + b) & 0xff, 0);
    if (sum !== 0) throw new Error(`${where}: checksum mismatch`);
    const address = (bytes[1]! << 8) | bytes[2]!;
    const type = bytes[3]!;
    const data = bytes.subarray(4, 4 + count);
    switch (type) {
      case 0x00: {
        const at = base + address;
        if (at + count > image.length) throw new Error(`${where}: data at 0x${at.toString(16)} beyond the ${image.length}-byte flash`);
        image.set(data, at);
        break;
      }
      case 0x01:
        sawEnd = true;
        break;
      case 0x02:
        base = ((data[0]! << 8) | data[1]!) * 16;
        break;
      case 0x04:
        base = ((data[0]! << 8) | data[1]!) << 16;
        break;
      case 0x03:
      case 0x05:
        break; // start addresses: the AVR always starts at 0
      default:
        throw new Error(`${where}: unknown record type ${type}`);
    }
  }
  if (!sawEnd) throw new Error(`${source}: no end-of-file record (truncated image?)`);
  return image;
}

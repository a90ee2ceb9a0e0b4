/**
 * Child process of the e-stop benchmark: an operator client that floods the cell with commands
 * through the Foxglove WebSocket bridge (the HMI's input path), at a steady rate, until SIGTERM;
 * then prints how many it sent as one JSON line. Uses @foxglove/ws-protocol's own client.
 *
 * Usage: node floodClient.js WS_URL COMMANDS_PER_SECOND WORD
 */
import foxgloveWsProtocol from '@foxglove/ws-protocol';
import WebSocket from 'ws';

const { FoxgloveClient } = foxgloveWsProtocol;
const [url, rateText, word] = process.argv.slice(2);
const rate = Number(rateText);
if (!url || !(rate > 0) || !word) {
  process.stderr.write('usage: floodClient WS_URL COMMANDS_PER_SECOND WORD\n');
  process.exit(2);
}

const client = new FoxgloveClient({ ws: new WebSocket(url, [FoxgloveClient.SUPPORTED_SUBPROTOCOL]) });
const payload = new TextEncoder().encode(JSON.stringify({ data: word }));
let sent = 0;
let timer: NodeJS.Timeout | undefined;
client.on('error', (e) => {
  process.stderr.write(`floodClient: ${e.message}\n`);
  process.exit(1);
});
client.on('serverInfo', () => {
  const channel = client.advertise({ topic: '/workcell/command', encoding: 'json', schemaName: 'std_msgs/msg/String' });
  const start = performance.now();
  process.stdout.write(`${JSON.stringify({ event: 'flooding' })}\n`);
  // Every millisecond, send what the rate says is due by now: a steady stream, not bursts of a second.
  timer = setInterval(() => {
    const due = Math.floor(((performance.now() - start) / 1000) * rate);
    while (sent < due) {
      client.sendMessage(channel, payload);
      sent++;
    }
  }, 1);
});
process.on('SIGTERM', () => {
  if (timer) clearInterval(timer);
  process.stdout.write(`${JSON.stringify({ event: 'sent', sent })}\n`);
  client.close();
  process.exit(0);
});

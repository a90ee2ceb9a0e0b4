/** `workcell replay FILE.mcap`: exit 0 when the replay agrees, 1 when it diverges, 2 on bad input. */
import { formatReplay, replayRecording, type ReplayReport } from './replay.js';

export function runReplay(file: string, opts: { json?: boolean }, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  let report: ReplayReport;
  try {
    report = replayRecording(file);
  } catch (e) {
    err.write(`workcell replay: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
  out.write(opts.json ? `${JSON.stringify({ file, ...report })}\n` : formatReplay(file, report));
  return report.divergences.length === 0 ? 0 : 1;
}

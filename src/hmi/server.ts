/**
 * The HMI's HTTP server: serves the bundled page (dist/hmi/, built by `npm run build`) and a
 * small config.json telling the page which port the Foxglove WebSocket bridge listens on. The
 * page loads nothing from anywhere else; the Content-Security-Policy holds it to that.
 *
 * Same binding rules as the bridge: 127.0.0.1 by default; another address needs --token (the
 * page passes the `token` of its own URL on to the bridge, which refuses commands without it).
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { checkBinding, DEFAULT_BIND, FaceStartError, FoxgloveBridge, type BridgeOptions } from '../bridge/server.js';
import type { Face, RunContext } from '../runtime/run.js';
import { pageBundleDir } from './paths.js';

export const DEFAULT_HTTP_PORT = 8080;

export interface HmiServerOptions {
  port?: number;
  host?: string;
  token?: string;
  /** Port of the Foxglove WebSocket bridge the page connects to. */
  wsPort: number;
  /** Folder holding the bundled page (default dist/hmi). */
  pageDir?: string;
}

const FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/index.html': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/app.js': { file: 'app.js', type: 'text/javascript; charset=utf-8' },
  '/app.js.map': { file: 'app.js.map', type: 'application/json; charset=utf-8' },
  '/style.css': { file: 'style.css', type: 'text/css; charset=utf-8' },
};

const SECURITY_HEADERS = {
  // Nothing from outside: the cell is often offline, and a panel must not depend on a CDN.
  'Content-Security-Policy': "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-store',
};

export class HmiServer implements Face {
  private constructor(private readonly server: Server) {}

  static async start(options: HmiServerOptions): Promise<HmiServer> {
    const host = options.host ?? DEFAULT_BIND;
    checkBinding(host, options.token, 'HMI');
    const dir = options.pageDir ?? pageBundleDir();
    const content = new Map<string, { body: Buffer; type: string }>();
    for (const [route, { file, type }] of Object.entries(FILES)) {
      try {
        content.set(route, { body: readFileSync(path.join(dir, file)), type });
      } catch {
        if (file === 'app.js.map') continue;
        throw new FaceStartError(`HMI: the page is not built (${path.join(dir, file)} is missing): run npm run build`);
      }
    }
    const config = Buffer.from(JSON.stringify({ wsPort: options.wsPort, tokenRequired: options.token !== undefined }));
    const server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://placeholder');
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(`${req.method} is not served here\n`);
        return;
      }
      const page = url.pathname === '/config.json' ? { body: config, type: 'application/json; charset=utf-8' } : content.get(url.pathname);
      if (!page) {
        res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8', ...SECURITY_HEADERS }).end(`${url.pathname} not found: the HMI is at /\n`);
        return;
      }
      res.writeHead(200, { 'Content-Type': page.type, 'Content-Length': page.body.length, ...SECURITY_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : page.body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e) => reject(new FaceStartError(`HMI: cannot listen on ${host}:${options.port ?? DEFAULT_HTTP_PORT}: ${e.message}`)));
      server.listen(options.port ?? DEFAULT_HTTP_PORT, host, () => resolve());
    });
    return new HmiServer(server);
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export interface OperatorFacesOptions {
  /** Serve the HMI page too (otherwise only the WebSocket bridge). */
  hmi: boolean;
  host?: string;
  token?: string;
  wsPort?: number;
  httpPort?: number;
  log?: (line: string) => void;
  /** Told where the servers listen once they do. */
  onListening?: (where: { wsPort: number; httpPort?: number; host: string }) => void;
}

/** The WebSocket bridge and, with `hmi`, the page's HTTP server, as CellRun faces. */
export function operatorFaces(options: OperatorFacesOptions): Array<(ctx: RunContext) => Promise<Face>> {
  let bridge: FoxgloveBridge | undefined;
  const host = options.host ?? DEFAULT_BIND;
  const bridgeOptions: BridgeOptions = {
    host,
    ...(options.token !== undefined ? { token: options.token } : {}),
    ...(options.wsPort !== undefined ? { port: options.wsPort } : {}),
    ...(options.log ? { log: options.log } : {}),
  };
  const faces: Array<(ctx: RunContext) => Promise<Face>> = [
    async (ctx) => {
      bridge = await FoxgloveBridge.start(ctx, bridgeOptions);
      if (!options.hmi) options.onListening?.({ wsPort: bridge.port, host });
      return bridge;
    },
  ];
  if (options.hmi) {
    faces.push(async () => {
      const server = await HmiServer.start({
        host,
        wsPort: bridge!.port,
        ...(options.token !== undefined ? { token: options.token } : {}),
        ...(options.httpPort !== undefined ? { port: options.httpPort } : {}),
      });
      options.onListening?.({ wsPort: bridge!.port, httpPort: server.port, host });
      return server;
    });
  }
  return faces;
}

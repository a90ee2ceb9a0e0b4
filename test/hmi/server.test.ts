import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HmiServer } from '../../src/hmi/server.js';

const servers: HmiServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

function pageDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'workcell-page-'));
  writeFileSync(path.join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(path.join(dir, 'app.js'), 'void 0;');
  writeFileSync(path.join(dir, 'style.css'), 'body{}');
  return dir;
}

describe('HMI HTTP server', () => {
  it('serves the page, its config and nothing else, under a policy that forbids outside resources', async () => {
    const server = await HmiServer.start({ port: 0, wsPort: 45678, pageDir: pageDir() });
    servers.push(server);
    const base = `http://127.0.0.1:${server.port}`;
    const index = await fetch(`${base}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/^text\/html/);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await index.text()).toContain('<title>t</title>');
    expect((await fetch(`${base}/app.js`)).headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(await (await fetch(`${base}/config.json`)).json()).toEqual({ wsPort: 45678, tokenRequired: false });
    const missing = await fetch(`${base}/../../etc/passwd`);
    expect(missing.status).toBe(404);
    const post = await fetch(`${base}/`, { method: 'POST', body: 'x' });
    expect(post.status).toBe(405);
    expect(await post.text()).toMatch(/POST is not served here/);
  });

  it('says how to build the page when it is missing, and refuses an open binding without a token', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'workcell-nopage-'));
    await expect(HmiServer.start({ port: 0, wsPort: 1, pageDir: empty })).rejects.toThrow(/the page is not built .*index\.html is missing\): run npm run build/);
    await expect(HmiServer.start({ port: 0, wsPort: 1, host: '0.0.0.0', pageDir: pageDir() })).rejects.toThrow(/HMI: binding 0\.0\.0\.0 \(not loopback\) needs --token/);
    const open = await HmiServer.start({ port: 0, wsPort: 1, host: '0.0.0.0', token: 'abcdefgh12', pageDir: pageDir() });
    servers.push(open);
    expect(await (await fetch(`http://127.0.0.1:${open.port}/config.json`)).json()).toEqual({ wsPort: 1, tokenRequired: true });
  });
});

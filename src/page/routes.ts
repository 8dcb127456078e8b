/**
 * The status page's routes: `/` (the page) and its two assets, `/assets/page.js`,
 * `/assets/page.css` and `/assets/icon.svg`, read once from the package's `web/` folder. The page is rendered at most
 * once per detector evaluation for each query (up to CACHE_ENTRIES of them), gzipped when the
 * client takes it, and always sent with a strict Content-Security-Policy.
 */
import { readFileSync } from 'node:fs';
import type { IncomingMessage, OutgoingHttpHeaders } from 'node:http';
import { gzipSync } from 'node:zlib';
import type { RawResponse, RawRouteHandler } from '../server/server.js';
import { buildModel, type PageInputs } from './model.js';
import { renderPage } from './render.js';

/** No inline script or style, nothing from elsewhere, no framing. */
export const PAGE_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; font-src 'none'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const CACHE_ENTRIES = 16;

const SECURITY_HEADERS: OutgoingHttpHeaders = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

interface Rendered {
  generation: number;
  html: Buffer;
  gzip: Buffer;
}

function asset(name: string): Buffer {
  return readFileSync(new URL(`../../web/${name}`, import.meta.url));
}

function acceptsGzip(req: IncomingMessage): boolean {
  const accept = req.headers['accept-encoding'];
  return typeof accept === 'string' && /\bgzip\b/.test(accept);
}

/**
 * @param generation changes whenever what the page shows may have changed (the app counts
 *   evaluations); a cached rendering of an older generation is rendered again.
 */
export function pageRoutes(src: PageInputs, generation: () => number): Record<string, RawRouteHandler> {
  const cache = new Map<string, Rendered>();
  const script = asset('page.js');
  const style = asset('page.css');
  const icon = asset('icon.svg');
  const assetRoute =
    (body: Buffer, type: string): RawRouteHandler =>
    () => ({ status: 200, headers: { ...SECURITY_HEADERS, 'Content-Type': type, 'Cache-Control': 'max-age=300' }, body });

  const page: RawRouteHandler = (query, req): RawResponse => {
    query.sort();
    const key = query.toString();
    const gen = generation();
    let r = cache.get(key);
    if (r?.generation !== gen) {
      const html = Buffer.from(renderPage(buildModel(src, query)));
      r = { generation: gen, html, gzip: gzipSync(html) };
      if (cache.size >= CACHE_ENTRIES) cache.clear();
      cache.set(key, r);
    }
    const gzip = acceptsGzip(req);
    return {
      status: 200,
      headers: {
        ...SECURITY_HEADERS,
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Security-Policy': PAGE_CSP,
        'Cache-Control': 'no-store',
        Vary: 'Accept-Encoding',
        ...(gzip ? { 'Content-Encoding': 'gzip' } : {}),
      },
      body: gzip ? r.gzip : r.html,
    };
  };
  return {
    '/': page,
    '/assets/page.js': assetRoute(script, 'text/javascript; charset=utf-8'),
    '/assets/page.css': assetRoute(style, 'text/css; charset=utf-8'),
    '/assets/icon.svg': assetRoute(icon, 'image/svg+xml'),
  };
}

/**
 * The sidecar's status page: one HTML page plus its assets, mounted at `/` next to
 * `/forecast`, which the page polls. Nothing is built: the page's HTML, CSS and script are
 * string constants (they survive the tsup bundle), and uPlot is read from its installed
 * package on first request, never relative to src/ (which does not exist in dist/).
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { type Request, type Response, Router } from 'express';
import { STATUS_CSS } from './css.js';
import { STATUS_HTML } from './html.js';
import { STATUS_JS } from './script.js';

/**
 * The page's Content-Security-Policy: scripts and styles only from the sidecar itself (no
 * inline code), data only from it, nothing may frame it. `img-src data:` is for the empty
 * favicon, which spares the browser a 404 on `/favicon.ico`.
 */
export const STATUS_PAGE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';
// Our own files change with the package: revalidate every time (express sends an ETag, so
// a repeat visit costs a 304). uPlot's URL is not versioned either, but it changes only when
// the dependency does: a day is a fair trade.
const REVALIDATE = 'no-cache';
const VENDOR = 'public, max-age=86400';

interface Asset {
  type: string;
  cache: string;
  body: () => Promise<string>;
}

/** Reads a file of the installed uplot package once; a failed read is retried next time. */
function vendorFile(subpath: string): () => Promise<string> {
  let text: Promise<string> | undefined;
  return () => {
    text ??= (async () => {
      const file = createRequire(import.meta.url).resolve(`uplot/dist/${subpath}`);
      return readFile(file, 'utf8');
    })().catch((error: unknown) => {
      text = undefined;
      throw error;
    });
    return text;
  };
}

function send(res: Response, type: string, cache: string, body: string): void {
  res
    .status(200)
    .set({
      'content-type': type,
      'cache-control': cache,
      'x-content-type-options': 'nosniff',
    })
    .send(body);
}

/**
 * The status page's router: `GET /` (the page, with a strict CSP) and
 * `GET /assets/{uPlot.iife.min.js,uPlot.min.css,status.js,status.css}`. Every URL the page
 * uses is relative (`assets/...`, `forecast`), so it also works behind a path prefix as long
 * as the page's URL ends with `/`. Unknown paths fall through to the app's handlers.
 */
export function statusPageRouter(): Router {
  const assets = new Map<string, Asset>([
    ['uPlot.iife.min.js', { type: JS, cache: VENDOR, body: vendorFile('uPlot.iife.min.js') }],
    ['uPlot.min.css', { type: CSS, cache: VENDOR, body: vendorFile('uPlot.min.css') }],
    ['status.js', { type: JS, cache: REVALIDATE, body: async () => STATUS_JS }],
    ['status.css', { type: CSS, cache: REVALIDATE, body: async () => STATUS_CSS }],
  ]);
  const router = Router();

  router.get('/', (_req: Request, res: Response) => {
    res.set({
      'content-security-policy': STATUS_PAGE_CSP,
      'referrer-policy': 'no-referrer',
      'x-frame-options': 'DENY',
    });
    send(res, 'text/html; charset=utf-8', REVALIDATE, STATUS_HTML);
  });

  router.get('/assets/:name', async (req: Request, res: Response, next) => {
    const asset = assets.get(String(req.params.name));
    if (!asset) {
      next();
      return;
    }
    try {
      send(res, asset.type, asset.cache, await asset.body());
    } catch (error) {
      next(error);
    }
  });

  return router;
}

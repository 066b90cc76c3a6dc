/**
 * sendJson(req, res, status, body): express's `res.status(status).json(body)` without its
 * per-reply header re-parsing (mime lookup, charset parse/format, freshness check), for the common
 * case; anything unusual goes through express itself, so the bytes on the wire never differ.
 *
 * Invariants: one JSON.stringify; headers as express writes them, in the same order
 * (`Content-Type: application/json; charset=utf-8`, then `Content-Length` as a string), after the
 * ones already set. Delegated to express: HEAD, conditional requests (If-None-Match /
 * If-Modified-Since: express may answer 304), statuses outside 200-999 or without a body
 * (204, 205, 304), a Content-Type or Transfer-Encoding already set, a body JSON cannot serialise
 * to a string. Requires the app's default JSON settings (no replacer, spaces or escape).
 */
import type { Request, Response } from 'express';

const JSON_UTF8 = 'application/json; charset=utf-8';

export function sendJson(req: Request, res: Response, status: number, body: unknown): void {
  if (
    Number.isInteger(status) &&
    status >= 200 &&
    status <= 999 &&
    status !== 204 &&
    status !== 205 &&
    status !== 304 &&
    req.method !== 'HEAD' &&
    req.headers['if-none-match'] === undefined &&
    req.headers['if-modified-since'] === undefined &&
    !res.hasHeader('content-type') &&
    !res.hasHeader('transfer-encoding')
  ) {
    const json: unknown = JSON.stringify(body);
    if (typeof json === 'string') {
      res.statusCode = status;
      res.setHeader('Content-Type', JSON_UTF8);
      res.setHeader('Content-Length', String(Buffer.byteLength(json, 'utf8')));
      res.end(json, 'utf8');
      return;
    }
  }
  res.status(status).json(body);
}

/** Small helpers that write a complete HTTP response. */
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/** Writes `body` as JSON with the given status. */
export function sendJson(res: ServerResponse, status: number, body: unknown, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, 'application/json; charset=utf-8', `${JSON.stringify(body)}\n`, headers);
}

/** Writes a text body with the given status and content type. */
export function sendText(res: ServerResponse, status: number, contentType: string, text: string, headers: OutgoingHttpHeaders = {}): void {
  send(res, status, contentType, text, headers);
}

/** A JSON error body: {"error": message}. */
export function sendError(res: ServerResponse, status: number, message: string, headers: OutgoingHttpHeaders = {}): void {
  sendJson(res, status, { error: message }, headers);
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: OutgoingHttpHeaders): void {
  res.writeHead(status, {
    ...headers,
    'Content-Type': contentType,
    'Content-Length': Buffer.byteLength(body),
    // Every answer describes the live daemon; a cached one is wrong by definition.
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

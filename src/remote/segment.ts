/**
 * The record format of the remote write queue's segment files. A segment is self-contained: a
 * series record defines a series id before the first sample record that uses it, so a reader
 * can start at any segment. Each record is framed as
 *
 *   u32 LE payload length | u32 LE crc32(payload) | payload
 *
 * and its payload is one of
 *
 *   0x01 series:  u32 id | labels as UTF-8 "name\0value\0name\0value…" (sorted by name, __name__ included)
 *   0x02 samples: u32 count | count × (u32 series id | f64 timestamp ms | f64 value)
 *
 * A torn or corrupt record (a crash mid-write) ends the readable part of the file: the reader
 * stops at the last whole record and reports where that is.
 */
import { crc32 } from 'node:zlib';
import type { Label } from './prompb.js';

export const HEADER_BYTES = 8;
const SERIES = 1;
const SAMPLES = 2;
export const SAMPLE_BYTES = 20;
/** A record larger than this is taken for corruption, not allocated. */
const MAX_PAYLOAD = 64 * 1024 * 1024;

/** Labels as the series record stores them. */
export function labelsToText(labels: readonly Label[]): string {
  let text = '';
  for (const l of labels) text += `${text === '' ? '' : '\0'}${l.name}\0${l.value}`;
  return text;
}

export function textToLabels(text: string): Label[] {
  const parts = text.split('\0');
  const labels: Label[] = [];
  for (let i = 0; i + 1 < parts.length; i += 2) labels.push({ name: parts[i] as string, value: parts[i + 1] as string });
  return labels;
}

function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(HEADER_BYTES + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, HEADER_BYTES);
  return out;
}

/** A framed series record. */
export function seriesRecord(id: number, labelText: string): Buffer {
  const text = Buffer.from(labelText, 'utf8');
  const payload = Buffer.allocUnsafe(5 + text.length);
  payload.writeUInt8(SERIES, 0);
  payload.writeUInt32LE(id, 1);
  text.copy(payload, 5);
  return frame(payload);
}

/** A framed samples record of ids[i], ts[i], values[i] for i in [from, to). */
export function samplesRecord(ids: readonly number[], ts: readonly number[], values: readonly number[], from: number, to: number): Buffer {
  const n = to - from;
  const payload = Buffer.allocUnsafe(5 + n * SAMPLE_BYTES);
  payload.writeUInt8(SAMPLES, 0);
  payload.writeUInt32LE(n, 1);
  let o = 5;
  for (let i = from; i < to; i++) {
    payload.writeUInt32LE(ids[i] as number, o);
    payload.writeDoubleLE(ts[i] as number, o + 4);
    payload.writeDoubleLE(values[i] as number, o + 12);
    o += SAMPLE_BYTES;
  }
  return frame(payload);
}

/** One record as read back. */
export type SegmentRecord =
  | { type: 'series'; id: number; labels: string; offset: number; end: number }
  | { type: 'samples'; count: number; payload: Buffer; offset: number; end: number };

/** The series id of the sample at index i of a samples record's payload. */
export function sampleId(payload: Buffer, i: number): number {
  return payload.readUInt32LE(5 + i * SAMPLE_BYTES);
}

/** The timestamp (ms) of the sample at index i of a samples record's payload. */
export function sampleTs(payload: Buffer, i: number): number {
  return payload.readDoubleLE(9 + i * SAMPLE_BYTES);
}

/** The value of the sample at index i of a samples record's payload. */
export function sampleValue(payload: Buffer, i: number): number {
  return payload.readDoubleLE(17 + i * SAMPLE_BYTES);
}

/**
 * Reads the record at `offset` of `buf`; null when no whole, valid record starts there (the end
 * of the data, a torn write or corruption).
 */
export function readRecord(buf: Buffer, offset: number): SegmentRecord | null {
  if (offset + HEADER_BYTES > buf.length) return null;
  const len = buf.readUInt32LE(offset);
  if (len < 5 || len > MAX_PAYLOAD) return null;
  const end = offset + HEADER_BYTES + len;
  if (end > buf.length) return null;
  const payload = buf.subarray(offset + HEADER_BYTES, end);
  if (crc32(payload) !== buf.readUInt32LE(offset + 4)) return null;
  const type = payload.readUInt8(0);
  if (type === SERIES) return { type: 'series', id: payload.readUInt32LE(1), labels: payload.toString('utf8', 5), offset, end };
  if (type === SAMPLES) {
    const count = payload.readUInt32LE(1);
    if (5 + count * SAMPLE_BYTES !== payload.length) return null;
    return { type: 'samples', count, payload, offset, end };
  }
  return null;
}

/** What a scan of a whole segment found. */
export interface SegmentScan {
  /** Bytes of whole, valid records from the start; anything after is torn or corrupt. */
  validBytes: number;
  samples: number;
  /** Timestamp of the first sample, null when none. */
  firstTs: number | null;
}

export function scanSegment(buf: Buffer): SegmentScan {
  let offset = 0;
  let samples = 0;
  let firstTs: number | null = null;
  for (;;) {
    const rec = readRecord(buf, offset);
    if (rec === null) break;
    if (rec.type === 'samples' && rec.count > 0) {
      if (firstTs === null) firstTs = sampleTs(rec.payload, 0);
      samples += rec.count;
    }
    offset = rec.end;
  }
  return { validBytes: offset, samples, firstTs };
}

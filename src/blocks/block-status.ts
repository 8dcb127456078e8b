/**
 * Adds the block signals to GET /api/v1/status (docs/api.md): each country of the detector's
 * list gets `blocks` ({monitored, up, down, uncertain, ordinary_pct}, null when this instance
 * probes none of its blocks), and a top-level `blocks` has every country and AS with blocks,
 * those without catalog targets too. With block probing off the status is unchanged.
 */
import type { BlocksSnapshot } from './blocks-stage.js';
import type { GroupSignal } from './signals.js';

export interface BlocksStatus {
  blocks: number;
  monitored: number;
  unmonitored: BlocksSnapshot['unmonitored'];
  rounds: number;
  countries: ({ country: string } & GroupSignal)[];
  asns: ({ asn: number } & GroupSignal)[];
}

export function withBlocks<S extends { countries: readonly { country: string }[] }>(
  status: S,
  snap: BlocksSnapshot | null,
): S | (Omit<S, 'countries'> & { countries: (S['countries'][number] & { blocks: GroupSignal | null })[]; blocks: BlocksStatus }) {
  if (snap === null) return status;
  return {
    ...status,
    countries: status.countries.map((c) => ({ ...c, blocks: snap.countries.get(c.country) ?? null })),
    blocks: {
      blocks: snap.blocks,
      monitored: snap.monitored,
      unmonitored: snap.unmonitored,
      rounds: snap.rounds,
      countries: [...snap.countries].map(([country, g]) => ({ country, ...g })),
      asns: [...snap.asns].map(([asn, g]) => ({ asn: Number(asn), ...g })),
    },
  };
}

import { test } from 'vitest';
import { CatalogFile } from '../../../src/config/schema.js';

test('x', () => {
  for (const status of [[400, 200], [200, 399], 404]) {
    const r = CatalogFile.safeParse({ targets: [{ id: 'a', kind: 'http', url: 'https://a/', expect: { status } }] });
    console.log('R', JSON.stringify(r.error?.issues ?? r.data));
  }
});

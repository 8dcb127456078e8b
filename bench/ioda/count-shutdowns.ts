/**
 * Prints the government-ordered outages of the IODA list per country, ranked:
 *   npm run bench:shutdowns [-- FILE]   (default bench/data/ioda-outages-2018-2022.csv)
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { findRepoRoot } from '../replay/ioda.js';
import { countGovernmentOrdered, formatCounts } from './shutdowns.js';

const root = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
const file = process.argv[2] ?? path.join(root, 'bench/data/ioda-outages-2018-2022.csv');
const counts = countGovernmentOrdered(readFileSync(file, 'utf8'));
const total = counts.reduce((n, c) => n + c.outages, 0);
console.log(`${file}: ${total} government-ordered outages in ${counts.length} countries`);
console.log(formatCounts(counts, 10));

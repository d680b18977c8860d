import { kioskSyncSuite } from './suites/kiosk-sync.js';
import { markdownTable } from './report.js';
const t = performance.now();
const r = await kioskSyncSuite.run({ full: false });
console.log(markdownTable(r));
console.log(((performance.now() - t) / 1000).toFixed(1), 's');

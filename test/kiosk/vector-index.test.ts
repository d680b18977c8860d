import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import * as sqliteVss from 'sqlite-vss';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { faceLikeSet, noisySample, randomCentre, seededRandom } from '../support/face-like-data.js';
import {
  MAX_K,
  openVectorIndex,
  type VectorEngineName,
  type VectorHit,
  type VectorIndex,
  type VectorRow,
} from '../../electron/kiosk/vector-index/index.js';
import { isClockfaceError } from '../../shared/errors.js';
import { euclideanDistance } from '../../shared/face/descriptor.js';
import { sqliteEngines } from '../support/vector-engines.js';

/**
 * The three engines behind VectorIndex must be interchangeable: on the same face-like data (200 people × 10
 * templates, seeded) each returns the exact k nearest templates with true Euclidean distances, keeps doing so after
 * removes, adds and rebuilds, refuses malformed input, and sees changes committed through another connection.
 */

const ENGINES: VectorEngineName[] = [...sqliteEngines(), 'js'];
const vss = { available: ENGINES.includes('sqlite-vss') };

const SET = faceLikeSet({ people: 200, samplesPerPerson: 10, seed: 20240611 });
const random = seededRandom(99);
/** New photos of enrolled people, and strangers. */
const PROBES: Float32Array[] = [
  ...Array.from({ length: 30 }, (_, i) => noisySample(SET.centres[(i * 37) % SET.centres.length]!, SET.sampleSd, random)),
  ...Array.from({ length: 10 }, () => randomCentre(0.043, random)),
];
const TOLERANCE = 1e-5;

function reference(rows: readonly VectorRow[], query: Float32Array, k: number): VectorHit[] {
  return rows
    .map((r) => ({ templateId: r.templateId, distance: euclideanDistance(r.descriptor, query) }))
    .sort((a, b) => a.distance - b.distance || a.templateId - b.templateId)
    .slice(0, k);
}

/**
 * `hits` is an exact k-NN answer over `rows`: same distances as brute force position by position, each distance
 * the true one of its template, no template twice; and the very same ids wherever brute force has no near-tie
 * that float32 rounding could legitimately order either way.
 */
function expectExactKnn(hits: VectorHit[], rows: readonly VectorRow[], query: Float32Array, k: number): void {
  const byId = new Map(rows.map((r) => [r.templateId, r.descriptor]));
  const ref = reference(rows, query, k + 1);
  const top = ref.slice(0, k);
  expect(hits).toHaveLength(top.length);
  expect(new Set(hits.map((h) => h.templateId)).size).toBe(hits.length);
  hits.forEach((hit, i) => {
    expect(Math.abs(hit.distance - top[i]!.distance)).toBeLessThan(TOLERANCE);
    const stored = byId.get(hit.templateId);
    expect(stored, `template ${hit.templateId} is not in the index`).toBeDefined();
    expect(Math.abs(euclideanDistance(stored!, query) - hit.distance)).toBeLessThan(TOLERANCE);
  });
  const nearTie = ref.some((r, i) => i > 0 && r.distance - ref[i - 1]!.distance < TOLERANCE);
  if (!nearTie) expect(hits.map((h) => h.templateId)).toEqual(top.map((h) => h.templateId));
}

function expectRefused(action: () => unknown, code: string): void {
  let caught: unknown;
  try {
    action();
  } catch (e) {
    caught = e;
  }
  expect(isClockfaceError(caught), `expected ClockfaceError ${code}, got ${String(caught)}`).toBe(true);
  expect((caught as { code: string }).code).toBe(code);
}

let dir: string;
let fileNo = 0;
const toClose: Array<{ close(): unknown }> = [];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'clockface-vector-index-'));
});
afterEach(() => {
  // Indexes first: a sqlite-vss index closes its own connection; the caller's connections after.
  for (const c of toClose.splice(0).reverse()) c.close();
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A new database file in WAL mode, as the kiosk opens its own. */
function newFile(): string {
  const file = join(dir, `kiosk-${fileNo++}.db`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.close();
  return file;
}

function connect(file: string): Database.Database {
  const db = new Database(file);
  toClose.push(db);
  return db;
}

function open(db: Database.Database, engine: VectorEngineName | 'auto', vssChunkRows?: number): VectorIndex {
  const index = openVectorIndex(db, engine, vssChunkRows === undefined ? {} : { vssChunkRows });
  toClose.push(index);
  return index;
}

const probe = (i: number): Float32Array => PROBES[i % PROBES.length]!;

describe.each(ENGINES)('%s vector index', (engine) => {
  let db: Database.Database;
  let index: VectorIndex;

  beforeAll(() => {
    // Built once for the read-only tests; kept open across them (afterEach closes only what tests open).
    db = new Database(newFile());
    index = openVectorIndex(db, engine);
    index.rebuild(SET.rows);
  });
  afterAll(() => {
    index.close();
    db.close();
  });

  it('holds 2,000 templates and returns the exact k nearest with true L2 distances, nearest first', () => {
    expect(index.engine).toBe(engine);
    expect(index.count()).toBe(2000);
    for (const query of PROBES) {
      expectExactKnn(index.search(query, 10), SET.rows, query, 10);
      expectExactKnn(index.search(query, 1), SET.rows, query, 1);
    }
    // A stored template finds itself at distance 0, its person's 9 other templates next (~0.4 away), then others.
    const self = index.search(SET.rows[5]!.descriptor, 11);
    expect(self[0]).toEqual({ templateId: SET.rows[5]!.templateId, distance: expect.closeTo(0, 5) as number });
    expect(self.slice(1, 10).every((h) => SET.personOfRow[h.templateId - 1] === SET.personOfRow[5])).toBe(true);
    expect(self[1]!.distance).toBeGreaterThan(0.25);
    expect(self[9]!.distance).toBeLessThan(0.55);
    expect(self[10]!.distance).toBeGreaterThan(0.55);
  });

  it('returns every row when k exceeds the count, and accepts k up to MAX_K', () => {
    expect(index.search(probe(0), MAX_K)).toHaveLength(2000);
  });

  it('refuses a descriptor of the wrong length, NaN or Infinity, and k out of range', () => {
    const nan = Float32Array.from(probe(1));
    nan[17] = Number.NaN;
    const inf = Float32Array.from(probe(1));
    inf[0] = Number.POSITIVE_INFINITY;
    for (const bad of [new Float32Array(127), new Float32Array(129), new Float32Array(0), nan, inf]) {
      expectRefused(() => index.search(bad, 5), 'INVALID_DESCRIPTOR');
    }
    for (const k of [0, -1, 1.5, MAX_K + 1, Number.NaN]) expectRefused(() => index.search(probe(1), k), 'INVALID_ARGUMENT');
  });

  it('refuses a bad batch whole: nothing of it is written', () => {
    const writable = open(connect(newFile()), engine);
    writable.rebuild(SET.rows.slice(0, 100));
    const nan = Float32Array.from(probe(2));
    nan[3] = Number.NaN;
    const good = { templateId: 5000, descriptor: probe(2) };
    expectRefused(() => writable.add([good, { templateId: 5001, descriptor: nan }]), 'INVALID_DESCRIPTOR');
    expectRefused(() => writable.add([good, { templateId: 5002, descriptor: new Float32Array(64) }]), 'INVALID_DESCRIPTOR');
    expectRefused(() => writable.add([good, good]), 'INVALID_ARGUMENT');
    expectRefused(() => writable.add([{ templateId: 1.5, descriptor: probe(2) }]), 'INVALID_ARGUMENT');
    expectRefused(() => writable.rebuild([good, { templateId: 5003, descriptor: nan }]), 'INVALID_DESCRIPTOR');
    expectRefused(() => writable.remove([Number.NaN]), 'INVALID_ARGUMENT');
    expect(writable.count()).toBe(100);
    expect(writable.search(probe(2), 1)[0]!.templateId).not.toBe(5000);
  });

  it('removes templates and adds new ones; add replaces a template with the same id', () => {
    const writable = open(connect(newFile()), engine);
    writable.rebuild(SET.rows);
    const query = probe(3);
    const nearest = writable.search(query, 5).map((h) => h.templateId);
    const removed = new Set([...nearest, ...SET.rows.slice(0, 45).map((r) => r.templateId)]);
    writable.remove([...removed, 987654]); // an id that was never indexed is ignored
    let rows = SET.rows.filter((r) => !removed.has(r.templateId));
    expect(writable.count()).toBe(rows.length);
    for (const q of PROBES.slice(0, 12)) expectExactKnn(writable.search(q, 10), rows, q, 10);

    const fresh = [
      { templateId: 100001, descriptor: query },
      { templateId: 100002, descriptor: noisySample(SET.centres[1]!, SET.sampleSd, random) },
    ];
    const replaced = { templateId: SET.rows[1000]!.templateId, descriptor: noisySample(query, 0.01, random) };
    writable.add([...fresh, replaced]);
    rows = [...rows.filter((r) => r.templateId !== replaced.templateId), ...fresh, replaced];
    expect(writable.count()).toBe(rows.length);
    expect(writable.search(query, 1)[0]).toEqual({ templateId: 100001, distance: expect.closeTo(0, 5) as number });
    for (const q of [query, ...PROBES.slice(0, 12)]) expectExactKnn(writable.search(q, 10), rows, q, 10);
  });

  it('rebuild replaces everything, from an iterator over the canonical table on the same connection', () => {
    const conn = connect(newFile());
    conn.exec('CREATE TABLE face_templates_cache (template_id INTEGER PRIMARY KEY, descriptor BLOB NOT NULL) STRICT');
    const insert = conn.prepare('INSERT INTO face_templates_cache VALUES (?, ?)');
    const subset = SET.rows.slice(700, 1200);
    conn.transaction(() => {
      for (const r of subset) insert.run(r.templateId, Buffer.from(r.descriptor.buffer, r.descriptor.byteOffset, 512));
    })();
    const writable = open(conn, engine);
    writable.rebuild(SET.rows.slice(0, 300));
    const canonical = conn.prepare<[], { template_id: number; descriptor: Buffer }>('SELECT template_id, descriptor FROM face_templates_cache');
    writable.rebuild(
      (function* () {
        for (const r of canonical.iterate()) {
          yield { templateId: r.template_id, descriptor: new Float32Array(new Uint8Array(r.descriptor).buffer) };
        }
      })(),
    );
    expect(writable.count()).toBe(500);
    for (const q of PROBES.slice(0, 15)) expectExactKnn(writable.search(q, 10), subset, q, 10);
  });

  it('an empty index returns no hits, also after every row was removed', () => {
    const writable = open(connect(newFile()), engine);
    expect(writable.count()).toBe(0);
    expect(writable.search(probe(4), 3)).toEqual([]);
    writable.add(SET.rows.slice(0, 3));
    expect(writable.search(probe(4), 10)).toHaveLength(3);
    writable.remove(SET.rows.slice(0, 3).map((r) => r.templateId));
    expect(writable.count()).toBe(0);
    expect(writable.search(probe(4), 3)).toEqual([]);
    writable.rebuild([]);
    expect(writable.search(probe(4), 3)).toEqual([]);
  });

  it('works on a database in memory', () => {
    const memory = connect(':memory:');
    const inMemory = open(memory, engine);
    inMemory.rebuild(SET.rows.slice(0, 200));
    inMemory.remove([SET.rows[0]!.templateId]);
    inMemory.add([{ templateId: 424242, descriptor: probe(5) }]);
    const rows = [...SET.rows.slice(1, 200), { templateId: 424242, descriptor: probe(5) }];
    expect(inMemory.count()).toBe(200);
    for (const q of PROBES.slice(0, 10)) expectExactKnn(inMemory.search(q, 5), rows, q, 5);
  });

  it('is kept in the file: a new index object sees it without a rebuild', () => {
    const file = newFile();
    const first = openVectorIndex(connect(file), engine);
    first.rebuild(SET.rows.slice(0, 400));
    first.close();
    const again = open(connect(file), engine);
    expect(again.count()).toBe(400);
    expectExactKnn(again.search(probe(6), 10), SET.rows.slice(0, 400), probe(6), 10);
  });

  it('a second connection that has already searched sees what the first commits later', () => {
    const file = newFile();
    const writer = open(connect(file), engine);
    writer.rebuild(SET.rows.slice(0, 500));
    const reader = open(connect(file), engine);
    const query = probe(7);
    expect(reader.search(query, 1)[0]!.distance).toBeGreaterThan(0.1); // loads whatever the engine caches

    writer.add([{ templateId: 777777, descriptor: query }]);
    expect(reader.count()).toBe(501);
    expect(reader.search(query, 1)[0]).toEqual({ templateId: 777777, distance: expect.closeTo(0, 5) as number });

    writer.remove([777777]);
    expect(reader.count()).toBe(500);
    expect(reader.search(query, 3).map((h) => h.templateId)).not.toContain(777777);

    writer.rebuild(SET.rows.slice(500, 800));
    expect(reader.count()).toBe(300);
    for (const q of PROBES.slice(0, 8)) expectExactKnn(reader.search(q, 10), SET.rows.slice(500, 800), q, 10);
  });

  it('writes from two connections in turn lose nothing (a stale copy must not commit over the other)', () => {
    const file = newFile();
    const a = open(connect(file), engine);
    a.rebuild(SET.rows.slice(0, 100));
    const b = open(connect(file), engine);
    expect(b.count()).toBe(100); // b now holds whatever it caches
    a.add([{ templateId: 900001, descriptor: probe(8) }]);
    b.add([{ templateId: 900002, descriptor: probe(9) }]);
    a.remove([SET.rows[0]!.templateId]);
    b.remove([SET.rows[1]!.templateId]);
    const rows = [
      ...SET.rows.slice(2, 100),
      { templateId: 900001, descriptor: probe(8) },
      { templateId: 900002, descriptor: probe(9) },
    ];
    const c = open(connect(file), engine);
    for (const view of [a, b, c]) {
      expect(view.count()).toBe(100);
      for (const q of [probe(8), probe(9), ...PROBES.slice(0, 5)]) expectExactKnn(view.search(q, 5), rows, q, 5);
    }
  });

  it('two index objects on one connection see each other’s writes', () => {
    const conn = connect(newFile());
    const one = open(conn, engine);
    one.rebuild(SET.rows.slice(0, 100));
    const two = open(conn, engine);
    expect(one.search(probe(10), 1)[0]!.templateId).not.toBe(800001);
    two.add([{ templateId: 800001, descriptor: probe(10) }]);
    expect(one.search(probe(10), 1)[0]!.templateId).toBe(800001);
    expect(one.count()).toBe(101);
  });
});

describe('engines agree', () => {
  it(`${ENGINES.join(', ')} return the same hits and distances (within ${TOLERANCE})`, () => {
    const results = ENGINES.map((engine) => {
      const index = open(connect(newFile()), engine);
      index.rebuild(SET.rows);
      return PROBES.map((q) => index.search(q, 10));
    });
    const [first, ...others] = results;
    for (const other of others) {
      other.forEach((hits, p) => {
        expect(hits.map((h) => h.templateId)).toEqual(first![p]!.map((h) => h.templateId));
        hits.forEach((h, i) => expect(Math.abs(h.distance - first![p]![i]!.distance)).toBeLessThan(TOLERANCE));
      });
    }
  });

  it("'auto' takes sqlite-vss where it loads, else sqlite-vec, and says why", () => {
    const index = open(connect(newFile()), 'auto');
    expect(index.engine).toBe(vss.available ? 'sqlite-vss' : 'sqlite-vec');
    expect(index.chosenBecause).toMatch(vss.available ? /sqlite-vss loaded/ : /sqlite-vss did not load/);
  });
});

describe.each(ENGINES.filter((e) => e !== 'sqlite-vss'))('%s writes join the caller’s transaction', (engine) => {
  it('a rolled-back transaction leaves the index as it was, in the file and in memory', () => {
    const conn = connect(newFile());
    const index = open(conn, engine);
    index.rebuild(SET.rows.slice(0, 50));
    expect(index.search(probe(11), 1)[0]!.templateId).not.toBe(600001);
    expect(() =>
      conn.transaction(() => {
        index.add([{ templateId: 600001, descriptor: probe(11) }]);
        index.remove([SET.rows[0]!.templateId]);
        expect(index.search(probe(11), 1)[0]!.templateId).toBe(600001); // visible inside the transaction
        throw new Error('roster sync failed');
      })(),
    ).toThrow('roster sync failed');
    expect(index.count()).toBe(50);
    expectExactKnn(index.search(probe(11), 5), SET.rows.slice(0, 50), probe(11), 5);
  });

  it('a copy loaded inside a rolled-back transaction is not taken for the next commit of another connection', () => {
    const file = newFile();
    const conn = connect(file);
    const index = open(conn, engine);
    index.rebuild(SET.rows.slice(0, 50));
    const x = { templateId: 610001, descriptor: probe(12) };
    const y = { templateId: 610002, descriptor: probe(13) };
    // What the transaction saw is asserted outside it: an expect failing inside would only look like the rollback.
    let seenInside: number | undefined;
    expect(() =>
      conn.transaction(() => {
        index.add([x]);
        seenInside = index.search(x.descriptor, 1)[0]?.templateId;
        throw new Error('roll back on purpose');
      })(),
    ).toThrow('roll back on purpose');
    expect(seenInside).toBe(x.templateId);
    open(connect(file), engine).add([y]);
    const rows = [...SET.rows.slice(0, 50), y];
    for (const q of [x.descriptor, y.descriptor]) expectExactKnn(index.search(q, 3), rows, q, 3);
  });
});

if (vss.available) {
  describe('sqlite-vss specifics', () => {
    it('the hazard is real: a plain connection that has searched does not see a later commit, and Faiss distances are squared', () => {
      const file = newFile();
      const writer = connect(file);
      const reader = connect(file);
      sqliteVss.load(writer);
      sqliteVss.load(reader);
      writer.exec('CREATE VIRTUAL TABLE raw USING vss0(embedding(4) factory="Flat,IDMap2")');
      const insert = writer.prepare('INSERT INTO raw (rowid, embedding) VALUES (?, ?)');
      const vec = (x: number): Buffer => Buffer.from(new Float32Array([x, 0, 0, 0]).buffer);
      insert.run(1n, vec(3));
      const search = reader.prepare<[Buffer, number], { rowid: number; distance: number }>(
        'SELECT rowid, distance FROM raw WHERE vss_search(embedding, vss_search_params(?, ?))',
      );
      expect(search.all(vec(0), 5)).toEqual([{ rowid: 1, distance: 9 }]); // 3² : squared L2
      insert.run(2n, vec(2));
      expect(search.all(vec(0), 5).map((r) => r.rowid)).toEqual([1]); // row 2 committed, not seen
    });

    it('refuses to write inside an open transaction on the caller’s connection (its chunked commits cannot join it)', () => {
      const conn = connect(newFile());
      open(conn, 'sqlite-vss').rebuild(SET.rows.slice(0, 20));
      conn.exec('CREATE TABLE roster (id INTEGER PRIMARY KEY)');
      conn.transaction(() => {
        conn.prepare('INSERT INTO roster VALUES (1)').run(); // the caller now holds the write lock
        const index = open(conn, 'sqlite-vss'); // opening an existing index does not wait for it
        expectRefused(() => index.add(SET.rows.slice(20, 22)), 'INVALID_ARGUMENT');
        expectRefused(() => index.remove([1]), 'INVALID_ARGUMENT');
        expectRefused(() => index.rebuild(SET.rows.slice(0, 2)), 'INVALID_ARGUMENT');
        expect(index.search(SET.rows[3]!.descriptor, 1)[0]!.templateId).toBe(SET.rows[3]!.templateId); // reading is fine
      })();
    });

    it('builds in small chunks aside and swaps: one vss0 table remains, leftovers of a broken rebuild are dropped', () => {
      const conn = connect(newFile());
      const index = open(conn, 'sqlite-vss', 150);
      index.rebuild(SET.rows.slice(0, 1000));
      sqliteVss.load(conn);
      conn.exec('CREATE VIRTUAL TABLE template_vectors_vss_0badcafe USING vss0(embedding(128))'); // as a crash would leave
      index.rebuild(SET.rows.slice(1000, 1600));
      const tables = conn
        .prepare<[], { name: string }>("SELECT name FROM sqlite_schema WHERE sql LIKE 'CREATE VIRTUAL TABLE%'")
        .all()
        .map((r) => r.name);
      expect(tables).toHaveLength(1);
      expect(index.count()).toBe(600);
      for (const q of PROBES.slice(0, 10)) expectExactKnn(index.search(q, 10), SET.rows.slice(1000, 1600), q, 10);
    });
  });
}

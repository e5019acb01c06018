// A SQLite database for a real Better Auth server without native modules: sql.js (SQLite
// compiled to WebAssembly) behind the small synchronous API Kysely's SqliteDialect drives
// (the better-sqlite3 shape: prepare → {reader, all, run, iterate}, close). Better Auth on
// Node 20 otherwise needs better-sqlite3, whose binaries come from GitHub or a native build.
//
// Better Auth then runs exactly as on any SQLite: its own migrations create the tables, its
// Kysely adapter writes the rows (dates as ISO-8601 text, booleans as 0/1). `save(path)`
// writes the database to a file that other programs (tessera import) can open.

import fs from 'node:fs';

import { SqliteDialect } from 'kysely';
import initSqlJs from 'sql.js';

/** SQLite values sql.js can bind: undefined → NULL, booleans → 0/1, bigint → number. */
function bindable(params = []) {
  return params.map((p) => {
    if (p === undefined) return null;
    if (typeof p === 'boolean') return p ? 1 : 0;
    if (typeof p === 'bigint') return Number(p);
    if (p instanceof Date) return p.toISOString();
    return p;
  });
}

export async function openSqlJsDatabase() {
  const SQL = await initSqlJs();
  const db = new SQL.Database();
  const rows = (sql, params) => {
    const stmt = db.prepare(sql);
    try {
      stmt.bind(bindable(params));
      const out = [];
      while (stmt.step()) out.push(stmt.getAsObject());
      return out;
    } finally {
      stmt.free();
    }
  };
  // the better-sqlite3 surface Kysely's SqliteDriver uses
  const driverDatabase = {
    prepare(sql) {
      const probe = db.prepare(sql);
      const reader = probe.getColumnNames().length > 0;
      probe.free();
      return {
        reader,
        all: (params) => rows(sql, params),
        run: (params) => {
          db.run(sql, bindable(params));
          return { changes: db.getRowsModified(), lastInsertRowid: undefined };
        },
        *iterate(params) {
          yield* rows(sql, params);
        },
      };
    },
    close() {},
  };
  return {
    /** For betterAuth({ database }). */
    betterAuthDatabase: { dialect: new SqliteDialect({ database: driverDatabase }), type: 'sqlite' },
    /** Runs SQL with positional parameters ($1, $2 … as on PostgreSQL); returns the rows. */
    query: (sql, params) => rows(sql, params),
    /** Writes the whole database to `path`. */
    save: (path) => fs.writeFileSync(path, Buffer.from(db.export())),
    close: () => db.close(),
  };
}

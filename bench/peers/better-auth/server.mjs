// The Better Auth peer of Tessera's benchmark: better-auth 1.7.25 on Node, PostgreSQL through
// `pg`, email and password, the `jwt()` and `bearer()` plugins, behind Node's own HTTP server
// (`toNodeHandler`), as its documentation sets it up.
//
//   node server.mjs migrate          create the tables in BA_DATABASE_URL, then exit
//   node server.mjs                  serve on BA_PORT (127.0.0.1)
//
// Environment: BA_DATABASE_URL (postgres://...), BA_PORT, BA_SECRET, BA_POOL (pg pool size),
// BA_WORKERS (1 = one process; N > 1 = Node cluster with N workers sharing the port).
// Rate limiting is switched off so the load generator measures the work, not the 429s
// (Better Auth limits only when NODE_ENV=production anyway).
import cluster from "node:cluster";
import http from "node:http";
import pg from "pg";
import { betterAuth } from "better-auth";
import { bearer, jwt } from "better-auth/plugins";
import { toNodeHandler } from "better-auth/node";
import { getMigrations } from "better-auth/db/migration";

const port = Number(process.env.BA_PORT ?? 3999);
const baseURL = `http://127.0.0.1:${port}`;
const workers = Number(process.env.BA_WORKERS ?? 1);

function options() {
  return {
    baseURL,
    secret: process.env.BA_SECRET ?? "bench-secret-0123456789abcdef0123456789abcdef",
    database: new pg.Pool({
      connectionString: process.env.BA_DATABASE_URL,
      max: Number(process.env.BA_POOL ?? 10),
    }),
    emailAndPassword: { enabled: true },
    plugins: [jwt(), bearer()],
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { level: "error" },
  };
}

if (process.argv[2] === "migrate") {
  const opts = options();
  const { runMigrations } = await getMigrations(opts);
  await runMigrations();
  await opts.database.end();
  console.log("migrated");
} else if (workers > 1 && cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on("exit", (w, code) => {
    console.error(`worker ${w.process.pid} exited (${code})`);
  });
} else {
  const auth = betterAuth(options());
  const handler = toNodeHandler(auth);
  const server = http.createServer((req, res) => {
    if (req.url === "/healthz") {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"status":"ok"}');
      return;
    }
    handler(req, res);
  });
  server.keepAliveTimeout = 65_000;
  server.listen(port, "127.0.0.1", () => {
    if (!cluster.isWorker || cluster.worker.id === 1) console.log(`listening on ${baseURL}`);
  });
}

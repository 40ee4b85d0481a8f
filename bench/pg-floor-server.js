// The raw `pg` floor for serve on PostgreSQL, run as a child process (fork) so the load generator
// does not share its event loop: a node:http server that reads each body, parses it and inserts
// it as one row with a pg.Pool of serve's default size, answering 200 once the INSERT's COMMIT
// has returned (one autocommitted statement: its COMMIT is its own, on the server's disk before
// it returns, synchronous_commit on as the store asks). No verification, no sync rules, no
// delivery log, no order kept per issue: the least a receiver that answers once PostgreSQL has
// the delivery can do on the machine. Tells the parent its URL, stops when told to.
//   fork("bench/pg-floor-server.js", [url])
import pg from "pg";
import { createServer } from "node:http";
import { join } from "node:path";
import { answerOk, onBody } from "./load.js";
import { DURABLE } from "./pg.js";

const root = join(import.meta.dirname, "..");
// serve's pool size (a build without it: the size it had).
const { DEFAULT_POOL_SIZE = 10 } = await import(join(root, "dist", "store", "pg-backend.js"));

const pool = new pg.Pool({ connectionString: process.argv[2], max: DEFAULT_POOL_SIZE, options: DURABLE });
pool.on("error", () => {});
// Made before a second floor server starts on the same database: the parent starts them in turn.
await pool.query("CREATE TABLE IF NOT EXISTS bodies (id BIGSERIAL PRIMARY KEY, body BYTEA NOT NULL)");
let failed = 0;
const server = createServer((req, res) =>
  onBody(req, (chunks) => {
    const body = Buffer.concat(chunks);
    JSON.parse(body.toString("utf8"));
    pool.query("INSERT INTO bodies (body) VALUES ($1)", [body]).then(
      () => answerOk(res),
      () => {
        failed++;
        res.writeHead(500).end();
      },
    );
  }),
);
await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
process.send({ url: `http://127.0.0.1:${server.address().port}`, poolSize: DEFAULT_POOL_SIZE });
process.on("message", async () => {
  await new Promise((resolve) => server.close(resolve));
  await pool.end();
  process.send({ failed }, () => process.exit(0));
});

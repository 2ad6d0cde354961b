// A grouped take's statement against the ordinary take's, on one PostgreSQL store (issue 35): the
// store holds a grouped kind "job" (per-group cap 2) of GROUPS groups x PER tasks and a kind
// "plain" without groups of as many tasks, a few takes of each already committed (leases, the
// rotation's cursor mid-way). Each run is one statement in a transaction rolled back (the store
// is the same for every run): task_take_groups of LIMIT tasks (after kind_limit_lock's row
// lock, as the driver runs it) and task_take of LIMIT tasks of "plain", alternated. Prints, per
// statement, the median of EXPLAIN (ANALYZE, BUFFERS)'s execution time and shared buffer hits
// (hits: deterministic for a store) and of a prepared run's time (the driver's generic plan, the
// rows returned; on a busy machine only the ratio between two medians means anything).
// Light: one connection, one statement at a time; not a throughput benchmark.
//
//   npx tsx bench/group-take-explain.mts URL [fill]      (from packages/idempotency, after a build)
//   env: GROUP_COUNT (10000) PER (5) LIMIT (250) RUNS (25) SCHEMA (group_take_explain)
//        QUERIES (another queries.sql, e.g. an older one: its task_take_groups is measured)
//        EXTRA (a file holding a statement on @kind @cap @cursor @limit @owner @lease_ms, measured
//        as a third, "extra", after the SQL of its lines between `-- setup:` and `-- statement:`
//        ran with their `-- ` taken off: bench/group-take-table.sql)
//        PLAN=1 (print the last plan of each)
import { readFileSync } from "node:fs";
import pg from "pg";
import { PgTaskStore } from "../dist/postgres.js";
import { bindNamed, compileNamed, parseQueryFile } from "../src/sql/query-file.js";

const url = process.argv[2];
if (!url) throw new Error("usage: npx tsx bench/group-take-explain.mts URL [fill]");
const fill = process.argv[3] === "fill";
const env = (name: string, fallback: number) => {
  const n = Number(process.env[name] ?? fallback);
  if (!Number.isInteger(n) || n < 1)
    throw new Error(`${name} must be a positive integer, got ${process.env[name]}`);
  return n;
};
const schema = process.env.SCHEMA ?? "group_take_explain";
const [GROUPS, PER, LIMIT, RUNS] = [
  env("GROUP_COUNT", 10_000),
  env("PER", 5),
  env("LIMIT", 250),
  env("RUNS", 25),
];
const CAP = 2;
const queries = parseQueryFile(
  readFileSync(process.env.QUERIES ?? new URL("../src/postgres/queries.sql", import.meta.url), "utf8"),
  "queries.sql",
);

if (fill) {
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.end();
  const store = await PgTaskStore.open({ url, schema });
  await store.setKindLimits("job", { perGroup: { concurrency: CAP } });
  const n = GROUPS * PER;
  for (const kind of ["job", "plain"])
    for (let i = 0; i < n; i += 2000)
      await store.enqueueMany(
        Array.from({ length: Math.min(2000, n - i) }, (_, j) => ({
          id: `${kind}-${i + j}`,
          idempotencyKey: `${kind}-${i + j}`,
          kind,
          payload: {},
          ...(kind === "job" ? { group: `g${String((i + j) % GROUPS).padStart(6, "0")}` } : {}),
        })),
      );
  for (let i = 0; i < 8; i++) {
    await store.takeNext(LIMIT, ["job"]);
    await store.takeNext(LIMIT, ["plain"]);
  }
  await store.close();
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(
    `VACUUM ANALYZE ${schema}.task_ready, ${schema}.task_leases, ${schema}.tasks, ${schema}.kind_limits`,
  );
  await c.end();
}

// the driver's session settings (connection.ts)
const client = new pg.Client({
  connectionString: url,
  options: `-c search_path=${schema} -c plan_cache_mode=force_generic_plan -c enable_seqscan=off -c enable_bitmapscan=off -c jit=off`,
});
await client.connect();
const cursor = (await client.query("SELECT group_cursor FROM kind_limits WHERE kind = 'job'")).rows[0]
  ?.group_cursor;
const lease = { now: null, owner: "explain", lease_ms: 60_000 };
const cases: Record<string, readonly [string, object]> = {
  groups: [
    "task_take_groups",
    { ...lease, kind: "job", limit: LIMIT, cap: CAP, cursor, max_places: LIMIT + 1 },
  ],
  plain: [
    "task_take",
    {
      ...lease,
      limit: LIMIT,
      kinds: ["plain"],
      allow_kinds: [],
      allow_n: [],
      from_kinds: [],
      from_rank: [],
      from_seq: [],
      skip_limited: false,
    },
  ],
};
if (process.env.EXTRA) {
  const text = readFileSync(process.env.EXTRA, "utf8");
  const [head, statement] = text.split(/^-- statement:$/m) as [string, string | undefined];
  if (statement === undefined) throw new Error(`${process.env.EXTRA}: no "-- statement:" line`);
  const setup = head.split(/^-- setup:$/m)[1] ?? "";
  // one at a time: a VACUUM runs outside a transaction block
  for (const sql of setup.replace(/^-- /gm, "").split(";")) if (sql.trim() !== "") await client.query(sql);
  queries.extra = statement;
  cases.extra = ["extra", { ...lease, kind: "job", cap: CAP, cursor: cursor ?? "", limit: LIMIT }];
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;
const results = Object.fromEntries(
  Object.keys(cases).map((name) => [
    name,
    { ms: [] as number[], hits: [] as number[], run: [] as number[], rows: 0 },
  ]),
);
for (let i = 0; i < RUNS; i++)
  for (const [name, [statement, params]] of Object.entries(cases)) {
    const result = results[name] as (typeof results)[string];
    const compiled = compileNamed(queries[statement] as string);
    const values = bindNamed(compiled, params);
    const begin = async () => {
      await client.query("BEGIN");
      if (name !== "plain") await client.query("SELECT 1 FROM kind_limits WHERE kind = 'job' FOR UPDATE");
    };
    await begin();
    const plan = (
      await client.query({ text: `EXPLAIN (ANALYZE, BUFFERS) ${compiled.text}`, values })
    ).rows.map((r) => r["QUERY PLAN"] as string);
    await client.query("ROLLBACK");
    result.ms.push(Number(/Execution Time: ([\d.]+)/.exec(plan.at(-1) as string)?.[1]));
    result.hits.push(Number(/shared hit=(\d+)/.exec(plan.join("\n"))?.[1]));
    if (process.env.PLAN && i === RUNS - 1) console.log(plan.join("\n"));
    await begin();
    const started = performance.now();
    result.rows = (await client.query({ name, text: compiled.text, values })).rowCount ?? 0;
    result.run.push(performance.now() - started);
    await client.query("ROLLBACK");
  }
await client.end();
console.log(`${GROUPS} groups x ${PER} tasks, takes of ${LIMIT}, medians of ${RUNS}:`);
for (const [name, r] of Object.entries(results))
  console.log(
    `${name}: ${r.rows} rows; EXPLAIN ANALYZE ${median(r.ms).toFixed(2)} ms, ${median(r.hits)} shared hits; prepared run ${median(r.run).toFixed(2)} ms`,
  );
const [g, p] = [results.groups, results.plain] as [(typeof results)[string], (typeof results)[string]];
console.log(
  `groups/plain: hits ${(median(g.hits) / median(p.hits)).toFixed(2)}, prepared run ${(median(g.run) / median(p.run)).toFixed(2)}`,
);

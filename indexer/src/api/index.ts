/**
 * The indexer's HTTP API: Ponder's GraphQL at `/graphql` (and `/`), SQL over HTTP at `/sql/*` (the
 * `@ponder/client` protocol), and `/fleet`: every asset with its first and last accepted reading and its
 * reading count, in one request (what the fleet view derives its ratios from; GraphQL would need two
 * aliased sub-queries per asset, past its operation limits, and a page per 1,000 assets). Ponder adds `/health`, `/ready`, `/status` and
 * `/metrics`, with CORS open to any origin, so the dashboard and integrators read it directly.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import { client, graphql, inArray, sql } from "ponder";

const app = new Hono();

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));

/** Bigints as decimal strings (JSON has no bigint). */
const plain = (value: unknown): unknown =>
  typeof value === "bigint"
    ? value.toString()
    : Array.isArray(value)
      ? value.map(plain)
      : value !== null && typeof value === "object"
        ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]))
        : value;

app.get("/fleet", async (c) => {
  const r = schema.meterReading;
  const [assets, spans] = await Promise.all([
    db.select().from(schema.asset).orderBy(schema.asset.assetId),
    db
      .select({
        assetId: r.assetId,
        readings: sql<number>`count(*)::int`,
        firstTimestamp: sql<string>`min(${r.timestamp})::text`,
        lastTimestamp: sql<string>`max(${r.timestamp})::text`,
      })
      .from(r)
      .groupBy(r.assetId),
  ]);
  // Reading ids are `<assetId>-<timestamp>`, so both ends are fetched by id.
  const ids = spans.flatMap((s) => [`${s.assetId}-${s.firstTimestamp}`, `${s.assetId}-${s.lastTimestamp}`]);
  const ends = ids.length ? await db.select().from(r).where(inArray(r.id, ids)) : [];
  const byId = new Map(ends.map((row) => [row.id, row]));
  const byAsset = new Map(spans.map((s) => [s.assetId, s]));
  return c.json(
    plain(
      assets.map((a) => {
        const s = byAsset.get(a.assetId);
        return {
          ...a,
          readings: s?.readings ?? 0,
          first: s ? (byId.get(`${s.assetId}-${s.firstTimestamp}`) ?? null) : null,
          last: s ? (byId.get(`${s.assetId}-${s.lastTimestamp}`) ?? null) : null,
        };
      }),
    ),
  );
});

app.use("/", graphql({ db, schema }));

export default app;

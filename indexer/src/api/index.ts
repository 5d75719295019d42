/**
 * The indexer's HTTP API: Ponder's GraphQL at `/graphql` (and `/`), and SQL over HTTP at `/sql/*`
 * (the `@ponder/client` protocol). Ponder adds `/health`, `/ready`, `/status` and `/metrics`, with
 * CORS open to any origin, so the dashboard and integrators read it directly.
 */
import { db } from "ponder:api";
import schema from "ponder:schema";
import { Hono } from "hono";
import { client, graphql } from "ponder";

const app = new Hono();

app.use("/sql/*", client({ db, schema }));
app.use("/graphql", graphql({ db, schema }));
app.use("/", graphql({ db, schema }));

export default app;

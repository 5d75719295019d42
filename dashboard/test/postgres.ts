/**
 * A throw-away PostgreSQL server from Debian's `postgresql` package: a fresh cluster in a temporary
 * folder on a free loopback port, started with `pg_ctl` and removed on stop. PostgreSQL refuses to run
 * as root, so as root the cluster belongs to the package's `postgres` user (`runuser`).
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../indexer/scripts/start.mjs";

/** The newest `/usr/lib/postgresql/<version>/bin` (Debian's layout). */
export function postgresBinDir(): string {
  const base = "/usr/lib/postgresql";
  const versions = fs.existsSync(base)
    ? fs
        .readdirSync(base)
        .filter((v) => fs.existsSync(path.join(base, v, "bin", "initdb")))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) {
    throw new Error("PostgreSQL is not installed: apt-get update && apt-get install -y postgresql (.ci/run does)");
  }
  return path.join(base, versions[0]!, "bin");
}

export interface Postgres {
  url: string;
  /** Runs one SQL statement with psql and returns its unaligned output. */
  query: (sql: string) => string;
  stop: () => void;
}

export async function startPostgres(database = "indexer"): Promise<Postgres> {
  const bin = postgresBinDir();
  const isRoot = process.getuid?.() === 0;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "indexer-pg-"));
  const data = path.join(dir, "data");
  const port = await freePort();
  if (isRoot) execFileSync("chown", ["-R", "postgres:postgres", dir]);
  const as = (command: string, args: string[]) =>
    isRoot
      ? execFileSync("runuser", ["-u", "postgres", "--", command, ...args], { cwd: dir, encoding: "utf8" })
      : execFileSync(command, args, { cwd: dir, encoding: "utf8" });
  as(path.join(bin, "initdb"), ["-D", data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-instructions"]);
  as(path.join(bin, "pg_ctl"), [
    "-D",
    data,
    "-l",
    path.join(dir, "server.log"),
    "-o",
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
    "-w",
    "start",
  ]);
  const psql = (db: string, sql: string) =>
    execFileSync(
      path.join(bin, "psql"),
      ["-h", "127.0.0.1", "-p", String(port), "-U", "postgres", "-d", db, "-At", "-c", sql],
      {
        encoding: "utf8",
      },
    );
  psql("postgres", `CREATE DATABASE ${database}`);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/${database}`,
    query: (sql) => psql(database, sql).trim(),
    stop: () => {
      try {
        as(path.join(bin, "pg_ctl"), ["-D", data, "-m", "fast", "-w", "stop"]);
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

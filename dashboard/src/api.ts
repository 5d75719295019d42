/**
 * The page's two data sources: the indexer's GraphQL API (everything indexed) and the chain's JSON-RPC
 * (only what the indexer does not store: `tokenURI`, token decimals and symbols). Plain `fetch`, no
 * client library.
 */

/** What `/config.json` (written by scripts/serve.mjs) tells the page. */
export interface DashboardConfig {
  /** The indexer's base URL (GraphQL at `/graphql`). */
  indexerUrl: string;
  /** The chain's JSON-RPC URL. */
  rpcUrl: string;
  /** The GpuAssetNFT address (for `tokenURI`). */
  nft: string;
  /** The network's name, as recorded in deployments/. */
  network: string;
}

/** The config: inlined in the page by scripts/serve.mjs, else `config.json` (e.g. under `vite dev`). */
export async function loadConfig(): Promise<DashboardConfig> {
  const inline = (window as { __DASHBOARD_CONFIG__?: DashboardConfig }).__DASHBOARD_CONFIG__;
  if (inline) return inline;
  const res = await fetch("config.json", { cache: "no-store" });
  if (!res.ok) throw new Error(`config.json: HTTP ${res.status}`);
  return (await res.json()) as DashboardConfig;
}

/** Runs one GraphQL query against the indexer. */
export async function graphql<T>(
  config: DashboardConfig,
  query: string,
  variables: Record<string, unknown> = {},
): Promise<T> {
  const res = await fetch(`${config.indexerUrl}/graphql`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ query, variables }),
  });
  if (!res.ok) throw new Error(`indexer: HTTP ${res.status}`);
  const body = (await res.json()) as { data?: T; errors?: { message: string }[] };
  if (body.errors?.length) throw new Error(`indexer: ${body.errors.map((e) => e.message).join("; ")}`);
  return body.data as T;
}

/** Every row of one paginated GraphQL list (Ponder pages hold at most 1,000 rows). */
export async function graphqlAll<T>(
  config: DashboardConfig,
  field: string,
  args: string,
  selection: string,
): Promise<T[]> {
  const rows: T[] = [];
  let after: string | null = null;
  for (;;) {
    const page: Record<string, { items: T[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> =
      await graphql(
        config,
        `query($after: String) { ${field}(${args}${args ? ", " : ""}limit: 1000, after: $after) {
           items { ${selection} } pageInfo { hasNextPage endCursor } } }`,
        { after },
      );
    const list = page[field]!;
    rows.push(...list.items);
    if (!list.pageInfo.hasNextPage) return rows;
    after = list.pageInfo.endCursor;
  }
}

/** A meter reading as the indexer's `/fleet` endpoint returns it (decimal strings). */
export interface FleetReading {
  timestamp: string;
  busyGpuSeconds: string;
  availableGpuSeconds: string;
  energyJ: string;
}

/** One asset as `/fleet` returns it: its row, its first and last reading and its reading count. */
export interface FleetAsset {
  assetId: string;
  owner: string;
  gpuModel: string;
  datacenter: string;
  vramMiBPerGpu: number;
  gpuCount: number;
  tdpWattsPerGpu: number;
  status: string;
  user: string | null;
  userExpires: string;
  vault: string | null;
  burned: boolean;
  readings: number;
  first: FleetReading | null;
  last: FleetReading | null;
}

/** Every asset with its metered span, in one request. */
export async function fleet(config: DashboardConfig): Promise<FleetAsset[]> {
  const res = await fetch(`${config.indexerUrl}/fleet`);
  if (!res.ok) throw new Error(`indexer /fleet: HTTP ${res.status}`);
  return (await res.json()) as FleetAsset[];
}

/** One `eth_call`. */
export async function ethCall(config: DashboardConfig, to: string, data: string): Promise<string> {
  const res = await fetch(config.rpcUrl, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", id: 1, method: "eth_call", params: [{ to, data }, "latest"] }),
  });
  const body = (await res.json()) as { result?: string; error?: { message: string } };
  if (body.error || !body.result) throw new Error(`eth_call: ${body.error?.message ?? "no result"}`);
  return body.result;
}

/** Decodes an ABI-encoded single `string` return value. */
export function decodeString(hex: string): string {
  const bytes = hexToBytes(hex);
  const offset = Number(readWord(bytes, 0));
  const length = Number(readWord(bytes, offset));
  return new TextDecoder().decode(bytes.slice(offset + 32, offset + 32 + length));
}

function hexToBytes(hex: string): Uint8Array {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

function readWord(bytes: Uint8Array, at: number): bigint {
  let v = 0n;
  for (let i = at; i < at + 32; i++) v = (v << 8n) | BigInt(bytes[i] ?? 0);
  return v;
}

/** `tokenURI(assetId)` of the NFT (selector 0xc87b56dd). */
export async function tokenURI(config: DashboardConfig, assetId: bigint): Promise<string> {
  return decodeString(await ethCall(config, config.nft, "0xc87b56dd" + assetId.toString(16).padStart(64, "0")));
}

/** A token's `decimals()` and `symbol()`. */
export interface TokenInfo {
  decimals: number;
  symbol: string;
}

const tokens = new Map<string, Promise<TokenInfo>>();

export function tokenInfo(config: DashboardConfig, token: string): Promise<TokenInfo> {
  const key = token.toLowerCase();
  if (!tokens.has(key)) {
    tokens.set(
      key,
      (async () => ({
        decimals: Number(BigInt(await ethCall(config, token, "0x313ce567"))),
        symbol: decodeString(await ethCall(config, token, "0x95d89b41")),
      }))(),
    );
  }
  return tokens.get(key)!;
}

/** Decodes an on-chain `data:application/json;base64,` metadata URI. */
export function decodeMetadata(uri: string): {
  name: string;
  description: string;
  image: string;
  attributes: { trait_type: string; value: string | number }[];
} {
  const prefix = "data:application/json;base64,";
  if (!uri.startsWith(prefix)) throw new Error("not an on-chain JSON data URI");
  const bytes = Uint8Array.from(atob(uri.slice(prefix.length)), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

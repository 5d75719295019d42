/**
 * Serves an EIP-1193 provider (the in-process Hardhat network) as JSON-RPC over HTTP on loopback, so
 * that the demo's feeders run their real chain adapter (`feeder/chain.ts` `EthersChain`: raw signed
 * transactions, nonces, receipts, logs) against the in-process chain exactly as they would against a
 * node. Single and batch requests; a provider error becomes a JSON-RPC error with its code and data.
 */
import http from "node:http";
import type { AddressInfo } from "node:net";

interface Eip1193 {
  request(args: { method: string; params?: unknown[] }): Promise<unknown>;
}

interface RpcRequest {
  jsonrpc?: string;
  id?: number | string | null;
  method: string;
  params?: unknown[];
}

async function answer(provider: Eip1193, req: RpcRequest): Promise<object> {
  try {
    const result = await provider.request({ method: req.method, params: req.params ?? [] });
    return { jsonrpc: "2.0", id: req.id ?? null, result };
  } catch (err) {
    const e = err as { code?: number; message?: string; data?: unknown };
    return {
      jsonrpc: "2.0",
      id: req.id ?? null,
      error: { code: typeof e.code === "number" ? e.code : -32603, message: e.message ?? String(err), data: e.data },
    };
  }
}

/** A running bridge: its URL, and `close()`. */
export interface RpcBridge {
  url: string;
  close(): Promise<void>;
}

/** Starts serving `provider` on 127.0.0.1 at a free port. */
export async function serveProvider(provider: Eip1193): Promise<RpcBridge> {
  const server = http.createServer((request, response) => {
    let body = "";
    request.on("data", (chunk: Buffer) => (body += chunk.toString()));
    request.on("end", () => {
      void (async () => {
        let parsed: RpcRequest | RpcRequest[];
        try {
          parsed = JSON.parse(body) as RpcRequest | RpcRequest[];
        } catch {
          response.writeHead(400).end();
          return;
        }
        // Requests of a batch run one after the other: the chain sees them in order.
        const out: object[] = [];
        for (const r of Array.isArray(parsed) ? parsed : [parsed]) out.push(await answer(provider, r));
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify(Array.isArray(parsed) ? out : out[0]));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

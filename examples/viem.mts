/**
 * The same outside program with viem instead of ethers: `compute-rwa/viem` gives every contract as
 * a viem contract instance typed from the package's `as const` ABIs (no ethers installed).
 *
 *   RPC_URL=http://127.0.0.1:8545 DEPLOYMENTS_DIR=/path/to/deployments node out/viem.mjs
 *
 * With REGISTRAR_PRIVATE_KEY set, it registers a GPU server and reads its spec back.
 */
import { createPublicClient, createWalletClient, http, keccak256, parseEventLogs, toHex, type Hex } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { AssetStatus, ChainMismatchError, connect, gpuAssetNftAbi, type Address } from "compute-rwa/viem";

async function main(): Promise<void> {
  const transport = http(process.env.RPC_URL ?? "http://127.0.0.1:8545");
  const publicClient = createPublicClient({ transport });
  const deploymentsDir = process.env.DEPLOYMENTS_DIR || undefined;
  const rwa = await connect({ public: publicClient }, { deploymentsDir });
  const [name, decimals, leaseManagerRole] = await Promise.all([
    rwa.nft.read.name(),
    rwa.stablecoin.read.decimals(),
    rwa.nft.read.LEASE_MANAGER_ROLE(),
  ]);
  const escrow: Address = rwa.addresses.escrow;
  const summary: Record<string, unknown> = {
    system: {
      chainId: rwa.addresses.chainId,
      nft: { address: rwa.addresses.nft, name },
      stablecoin: { decimals },
      escrowIsLeaseManager: await rwa.nft.read.hasRole([leaseManagerRole, escrow]),
    },
  };
  summary.chainCheck = await connect({ public: publicClient }, { addresses: { ...rwa.addresses, chainId: 1 } }).then(
    () => "accepted a record of another chain",
    (e: unknown) => (e instanceof ChainMismatchError ? "ChainMismatchError" : String(e)),
  );
  const key = process.env.REGISTRAR_PRIVATE_KEY as Hex | undefined;
  if (key) {
    const account = privateKeyToAccount(key);
    const chain = {
      id: rwa.addresses.chainId,
      name: rwa.addresses.network,
      nativeCurrency: { name: "Ether", symbol: "ETH", decimals: 18 },
      rpcUrls: { default: { http: [process.env.RPC_URL ?? "http://127.0.0.1:8545"] } },
    } as const;
    const wallet = createWalletClient({ account, chain, transport });
    const writable = await connect({ public: publicClient, wallet }, { deploymentsDir });
    const hash = await writable.nft.write.mint([
      account.address,
      {
        gpuModel: "NVIDIA A100 80GB PCIe",
        datacenter: "us-east-iad1",
        serialsHash: keccak256(toHex(`viem-example-serials-${Date.now()}`)),
        vramMiBPerGpu: 81_920,
        gpuCount: 4,
        tdpWattsPerGpu: 300,
      },
    ]);
    const receipt = await publicClient.waitForTransactionReceipt({ hash });
    const [transfer] = parseEventLogs({ abi: gpuAssetNftAbi, eventName: "Transfer", logs: receipt.logs });
    const assetId: bigint = transfer.args.tokenId;
    const spec = await rwa.nft.read.specOf([assetId]);
    const status: AssetStatus = await rwa.nft.read.statusOf([assetId]);
    summary.registered = { assetId: assetId.toString(), gpuCount: spec.gpuCount, status: AssetStatus[status] };
  }
  console.log(JSON.stringify(summary, (_k, v) => (typeof v === "bigint" ? v.toString() : v), 2));
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

/**
 * An outside integrator's program, with ethers v6: it depends on the published `compute-rwa`
 * package (by name, nothing from this repository's sources) and ethers, connects to a deployed
 * system and uses the typed contracts. docs/integrate.md ("Try it locally") builds and runs it.
 *
 *   RPC_URL=http://127.0.0.1:8545 DEPLOYMENTS_DIR=/path/to/deployments node out/integrator.js
 *
 * Read-only by default. With REGISTRAR_PRIVATE_KEY set (the registrar of a dev deploy), it also
 * registers a GPU server, finds its Transfer event and reads the spec back.
 */
import { JsonRpcProvider, Wallet, id } from "ethers";
import { AssetStatus, ChainMismatchError, connect, recordedNetworks, type Address, type ComputeRwa } from "compute-rwa";

async function describeSystem(rwa: ComputeRwa) {
  const [nftName, symbol, decimals, tokenSymbol, configVersion, escrowIsLeaseManager] = await Promise.all([
    rwa.nft.name(),
    rwa.nft.symbol(),
    rwa.stablecoin.decimals(),
    rwa.stablecoin.symbol(),
    rwa.oracle.configVersion(),
    rwa.nft.hasRole(await rwa.nft.LEASE_MANAGER_ROLE(), rwa.addresses.escrow),
  ]);
  const nftAddress: Address = rwa.addresses.nft;
  return {
    network: rwa.addresses.network,
    chainId: rwa.addresses.chainId,
    nft: { address: nftAddress, name: nftName, symbol },
    stablecoin: { address: rwa.addresses.stablecoin, symbol: tokenSymbol, decimals: Number(decimals) },
    oracleConfigVersion: Number(configVersion),
    escrowIsLeaseManager,
  };
}

async function registerServer(rwa: ComputeRwa, provider: JsonRpcProvider, registrarKey: string) {
  const registrar = new Wallet(registrarKey, provider);
  const nft = rwa.nft.connect(registrar);
  const spec = {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: id(`example-serials-${Date.now()}`),
    vramMiBPerGpu: 81_559,
    gpuCount: 8,
    tdpWattsPerGpu: 700,
  };
  const receipt = (await (await nft.mint(registrar.address, spec)).wait())!;
  const [transfer] = await nft.queryFilter(nft.filters.Transfer(), receipt.blockNumber, receipt.blockNumber);
  const event = { tokenId: transfer.args.tokenId, blockNumber: transfer.blockNumber };
  const stored = await nft.specOf(event.tokenId);
  const status = Number(await nft.statusOf(event.tokenId)) as AssetStatus;
  return {
    assetId: event.tokenId.toString(),
    heardInBlock: event.blockNumber === receipt.blockNumber,
    owner: await nft.ownerOf(event.tokenId),
    gpuCount: Number(stored.gpuCount),
    status: AssetStatus[status],
  };
}

/**
 * A live listener, typed as ethers calls it: the event's values, then a ContractEventPayload whose
 * log is `event.log` (`event.blockNumber` does not type-check: it is undefined at run time).
 */
export async function watchTransfers(rwa: ComputeRwa, onTransfer: (tokenId: bigint, blockNumber: number) => void) {
  await rwa.nft.on(rwa.nft.filters.Transfer(), (_from, _to, tokenId, event) =>
    onTransfer(tokenId, event.log.blockNumber),
  );
}

async function main(): Promise<void> {
  const provider = new JsonRpcProvider(process.env.RPC_URL ?? "http://127.0.0.1:8545");
  provider.pollingInterval = 250;
  const deploymentsDir = process.env.DEPLOYMENTS_DIR || undefined;
  const rwa = await connect(provider, { deploymentsDir });
  const summary: Record<string, unknown> = {
    recorded: recordedNetworks(deploymentsDir),
    system: await describeSystem(rwa),
  };
  // connect() checks the provider's chain against the record's.
  summary.chainCheck = await connect(provider, { addresses: { ...rwa.addresses, chainId: 1 } }).then(
    () => "accepted a record of another chain",
    (e: unknown) => (e instanceof ChainMismatchError ? "ChainMismatchError" : String(e)),
  );
  const key = process.env.REGISTRAR_PRIVATE_KEY;
  if (key) summary.registered = await registerServer(rwa, provider, key);
  console.log(JSON.stringify(summary, null, 2));
  provider.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

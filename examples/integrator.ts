/**
 * An outside integrator's program: it depends on the published `compute-rwa` package (by name,
 * nothing from this repository's sources) and ethers, connects to a deployed system and uses the
 * typed contracts.
 *
 *   RPC_URL=http://127.0.0.1:8545 DEPLOYMENTS_DIR=/path/to/deployments node integrator.js
 *
 * Read-only by default. With REGISTRAR_PRIVATE_KEY set (the registrar of a dev deploy), it also
 * registers a GPU server and reads its spec back.
 */
import { JsonRpcProvider, Wallet, id } from "ethers";
import { connect, recordedNetworks, type ComputeRwa } from "compute-rwa";

async function describeSystem(rwa: ComputeRwa) {
  const [nftName, symbol, decimals, tokenSymbol, configVersion, escrowIsLeaseManager] = await Promise.all([
    rwa.nft.name(),
    rwa.nft.symbol(),
    rwa.stablecoin.decimals(),
    rwa.stablecoin.symbol(),
    rwa.oracle.configVersion(),
    rwa.nft.hasRole(await rwa.nft.LEASE_MANAGER_ROLE(), rwa.addresses.escrow),
  ]);
  return {
    network: rwa.addresses.network,
    chainId: rwa.addresses.chainId,
    nft: { address: rwa.addresses.nft, name: nftName, symbol },
    stablecoin: { address: rwa.addresses.stablecoin, symbol: tokenSymbol, decimals: Number(decimals) },
    oracleConfigVersion: Number(configVersion),
    escrowIsLeaseManager,
  };
}

async function registerServer(rwa: ComputeRwa, registrarKey: string) {
  const registrar = new Wallet(registrarKey, rwa.nft.runner!.provider);
  const nft = rwa.nft.connect(registrar);
  const spec = {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: id(`example-serials-${Date.now()}`),
    vramMiBPerGpu: 81_559,
    gpuCount: 8,
    tdpWattsPerGpu: 700,
  };
  const receipt = await (await nft.mint(registrar.address, spec)).wait();
  const transfer = receipt!.logs
    .map((log) => nft.interface.parseLog(log))
    .find((parsed) => parsed?.name === "Transfer");
  const assetId: bigint = transfer!.args.tokenId;
  const stored = await nft.specOf(assetId);
  return { assetId: assetId.toString(), owner: await nft.ownerOf(assetId), gpuCount: Number(stored.gpuCount) };
}

async function main(): Promise<void> {
  const provider = new JsonRpcProvider(process.env.RPC_URL ?? "http://127.0.0.1:8545");
  const { chainId } = await provider.getNetwork();
  const deploymentsDir = process.env.DEPLOYMENTS_DIR || undefined;
  const networks = recordedNetworks(deploymentsDir);
  const rwa = connect(chainId, provider, { deploymentsDir });
  const summary: Record<string, unknown> = { recorded: networks, system: await describeSystem(rwa) };
  const key = process.env.REGISTRAR_PRIVATE_KEY;
  if (key) summary.registered = await registerServer(rwa, key);
  console.log(JSON.stringify(summary, null, 2));
  provider.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

/**
 * An outside integrator's program: it depends on the published `compute-rwa` package (by name,
 * nothing from this repository's sources) and ethers, connects to a deployed system and uses the
 * typed contracts.
 *
 *   RPC_URL=http://127.0.0.1:8545 DEPLOYMENTS_DIR=/path/to/deployments node integrator.js
 *
 * Read-only by default. With REGISTRAR_PRIVATE_KEY set (the registrar of a dev deploy), it also
 * registers a GPU server and reads its spec back; with ORACLE_SIGNER_KEYS too (comma-separated,
 * at least the threshold), it signs a usage reading of that server with the package's EIP-712
 * module, submits it to the oracle and reads the meter back.
 */
import { JsonRpcProvider, SigningKey, Wallet, id } from "ethers";
import {
  connect,
  makeBatch,
  oracleDomain,
  recordedNetworks,
  signBatchWithKey,
  submitArgs,
  type ComputeRwa,
} from "compute-rwa";

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

async function reportUsage(rwa: ComputeRwa, assetId: bigint, signerKeys: string[]) {
  const provider = rwa.oracle.runner!.provider!;
  const { chainId } = await provider.getNetwork();
  const now = (await provider.getBlock("latest"))!.timestamp;
  // The first reading of an asset is its baseline (cumulative counters since metering started).
  const batch = makeBatch(await rwa.oracle.configVersion(), [
    { assetId, timestamp: BigInt(now), busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n },
  ]);
  const domain = oracleDomain(chainId, rwa.addresses.oracle);
  const signatures = signerKeys.map((key) => signBatchWithKey(new SigningKey(key), domain, batch));
  // Anyone may transmit: the signatures are the authority. Here the first signer's wallet pays.
  const transmitter = new Wallet(signerKeys[0], provider);
  await (await rwa.oracle.connect(transmitter).submit(...submitArgs(batch, signatures))).wait();
  const meter = await rwa.oracle.latestReading(assetId);
  return { timestamp: Number(meter.timestamp), fresh: await rwa.oracle.isFresh(assetId, 3_600n) };
}

async function main(): Promise<void> {
  const provider = new JsonRpcProvider(process.env.RPC_URL ?? "http://127.0.0.1:8545");
  const { chainId } = await provider.getNetwork();
  const deploymentsDir = process.env.DEPLOYMENTS_DIR || undefined;
  const networks = recordedNetworks(deploymentsDir);
  const rwa = connect(chainId, provider, { deploymentsDir });
  const summary: Record<string, unknown> = { recorded: networks, system: await describeSystem(rwa) };
  const key = process.env.REGISTRAR_PRIVATE_KEY;
  if (key) {
    const registered = await registerServer(rwa, key);
    summary.registered = registered;
    const signerKeys = (process.env.ORACLE_SIGNER_KEYS ?? "").split(",").filter(Boolean);
    if (signerKeys.length > 0) summary.reported = await reportUsage(rwa, BigInt(registered.assetId), signerKeys);
  }
  console.log(JSON.stringify(summary, null, 2));
  provider.destroy();
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});

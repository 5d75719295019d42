/**
 * `npm run verify -- --network <name>`: verifies every contract recorded in
 * `deployments/<network>/` on the network's Etherscan-family explorer through
 * `@nomicfoundation/hardhat-verify` (Etherscan API v2: one ETHERSCAN_API_KEY for every chain).
 * Already-verified contracts are reported and skipped, so it can be re-run.
 */
import hre from "hardhat";

async function main(): Promise<void> {
  if (!process.env.ETHERSCAN_API_KEY?.trim()) {
    throw new Error("ETHERSCAN_API_KEY is not set (see .env.example): one Etherscan v2 key covers every chain");
  }
  const all = await hre.deployments.all();
  const names = Object.keys(all).filter((name) => all[name].transactionHash || all[name].receipt);
  if (names.length === 0) throw new Error(`nothing recorded in deployments/${hre.network.name}/: deploy first`);
  const failed: string[] = [];
  for (const name of names) {
    const d = all[name];
    console.log(`verifying ${name} at ${d.address}`);
    try {
      await hre.run("verify:verify", { address: d.address, constructorArguments: d.args ?? [] });
    } catch (e) {
      const message = (e as Error).message;
      if (/already verified/i.test(message)) {
        console.log(`${name}: already verified`);
      } else {
        console.error(`${name}: ${message}`);
        failed.push(name);
      }
    }
  }
  // The vault implementation every clone delegates to: created by the factory's constructor, so
  // it has no record of its own.
  const factory = all.RevenueSplitVaultFactory;
  if (factory) {
    const implementation: string = await new hre.ethers.Contract(
      factory.address,
      ["function implementation() view returns (address)"],
      hre.ethers.provider,
    ).implementation();
    console.log(`verifying RevenueSplitVault (implementation) at ${implementation}`);
    try {
      await hre.run("verify:verify", {
        address: implementation,
        contract: "contracts/RevenueSplitVault.sol:RevenueSplitVault",
        constructorArguments: factory.args ?? [],
      });
    } catch (e) {
      const message = (e as Error).message;
      if (/already verified/i.test(message)) console.log("RevenueSplitVault: already verified");
      else {
        console.error(`RevenueSplitVault: ${message}`);
        failed.push("RevenueSplitVault");
      }
    }
  }
  if (failed.length > 0) throw new Error(`verification failed for ${failed.join(", ")}`);
}

main().catch((e) => {
  console.error(e instanceof Error ? e.message : e);
  process.exitCode = 1;
});

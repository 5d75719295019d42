import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { RevenueSplitVault__factory } from "../../typechain-types";
import { ONE_SHARE, leaseTerms, realEscrowDeployedFixture } from "./fixtures";
import { ALL_STATES, UNFINISHED_STATES, leaseInState, type Base } from "./leaseStates";

const HOLDERS = [50n, 30n, 20n]; // alice, bob, carol, in shares of 100

/** Σ of what the escrow credited `payee` in `token` from `fromBlock` on: settled charges and arbiters' splits. */
async function creditedTo(base: Base, payee: string, token: string, fromBlock: number) {
  const { escrow } = base;
  let total = 0n;
  for (const e of await escrow.queryFilter(escrow.filters.LeaseSettled(undefined, payee), fromBlock)) {
    const lease = await escrow.leaseOf(e.args.leaseId);
    if ((await escrow.leaseTermsAt(lease.assetId, lease.termsVersion)).token === token) total += e.args.charged;
  }
  // An arbiter's split credits the NFT's owner at the time of the resolution.
  for (const e of await escrow.queryFilter(escrow.filters.DisputeResolved(), fromBlock)) {
    const block = e.blockNumber;
    const owner = await base.nft.ownerOf(base.assetId, { blockTag: block });
    const lease = await escrow.leaseOf(e.args.leaseId);
    const leaseToken = (await escrow.leaseTermsAt(lease.assetId, lease.termsVersion)).token;
    if (owner === payee && leaseToken === token) total += e.args.toPayee;
  }
  return total;
}

/**
 * Issue 14, point 4, exhaustively: for a lease of the asset in the vault's token or in another one, in
 * every state a lease can be in when somebody creates the vault, either the factory refuses the vault
 * (exactly when the lease is unfinished and in another token) or nothing the vault is ever credited is
 * stranded: every unit credited to it is in its revenue token and reaches its holders through harvest
 * and claim. Meters are signed batches on the real oracle; settlement, close, dispute and the
 * arbiter's split go through the real escrow.
 */
describe("RevenueSplitVaultFactory + RevenueSplitVault: nothing credited to a vault is stranded", function () {
  for (const which of ["the vault's token", "another token"] as const) {
    for (const state of ALL_STATES) {
      const refused = which === "another token" && UNFINISHED_STATES.includes(state);
      const title = refused
        ? `a lease in ${which}, ${state}: the vault is refused until the lease is finished, then created; nothing stranded`
        : `a lease in ${which}, ${state}: the vault is created and every unit credited to it is distributed`;
      it(title, async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, manager, alice, bob, carol, usdc, otherToken, assetId } = base;
        const usdcAddress = await usdc.getAddress();
        const leaseToken = which === "another token" ? await otherToken.getAddress() : usdcAddress;
        const lease = await leaseInState(base, leaseToken, state);
        if ((await escrow.leaseTermsOf(assetId)).token !== usdcAddress) {
          await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(usdcAddress));
        }
        const create = async () =>
          factory.connect(originator).createVault(
            assetId,
            usdcAddress,
            manager.address,
            [alice.address, bob.address, carol.address],
            HOLDERS.map((s) => s * ONE_SHARE),
          );
        if (refused) {
          await expect(create())
            .to.be.revertedWithCustomError(factory, "UnfinishedLeasesInOtherToken")
            .withArgs(assetId, leaseToken, usdcAddress, 1n);
          await lease.finish();
        }
        const created = await (await create()).wait();
        const vaultAddress = await factory.vaultOf(assetId);
        const vault = RevenueSplitVault__factory.connect(vaultAddress, alice);
        if (!refused) await lease.finish();
        expect([...(await escrow.unfinishedLeasesOf(assetId))].map(String)).to.deep.equal(["0", "0x" + "0".repeat(40)]);

        // Nothing of any other token: not in the escrow for the vault, not in the vault.
        for (const token of [otherToken]) {
          expect(await escrow.withdrawable(vaultAddress, await token.getAddress()), "escrow, other token").to.equal(0n);
          expect(await token.balanceOf(vaultAddress), "vault, other token").to.equal(0n);
        }
        // Everything credited to the vault since its creation waits in its revenue token…
        const credited = await creditedTo(base, vaultAddress, usdcAddress, created!.blockNumber);
        expect(await creditedTo(base, vaultAddress, await otherToken.getAddress(), created!.blockNumber)).to.equal(0n);
        expect(await escrow.withdrawable(vaultAddress, usdcAddress)).to.equal(credited);
        // …what an unfinished lease in the vault's token still owed reached the vault, not the originator…
        if (which === "the vault's token" && UNFINISHED_STATES.includes(state)) {
          expect(credited, "the vault is credited the lease's remaining charges").to.be.greaterThan(0n);
        }
        // …and harvest and claims hand every unit of it to the holders (rounding down, dust kept).
        if (credited === 0n) {
          await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
          return;
        }
        await vault.harvest();
        expect(await vault.totalHarvested()).to.equal(credited);
        let claimed = 0n;
        for (const [i, holder] of [alice, bob, carol].entries()) {
          const owed = (credited * HOLDERS[i]) / 100n;
          await expect(vault.connect(holder).claim(holder.address)).to.changeTokenBalances(
            usdc,
            [vault, holder],
            [-owed, owed],
          );
          claimed += owed;
        }
        const dust = credited - claimed;
        expect(dust <= 2n, `dust ${dust}`).to.equal(true);
        expect(await usdc.balanceOf(vaultAddress)).to.equal(dust);
        expect(await escrow.withdrawable(vaultAddress, usdcAddress)).to.equal(0n);
      });
    }
  }
});

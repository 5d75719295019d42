import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { anyValue } from "@nomicfoundation/hardhat-chai-matchers/withArgs";
import { RevenueSplitVault__factory } from "../../typechain-types";
import {
  ONE_SHARE,
  ONE_USDC,
  PRECISION,
  blocklistFixture,
  deployedFixture,
  harvestedFixture,
  leaseTerms,
  realEscrowLeasedFixture,
  realEscrowVaultFixture,
  reentrantFixture,
  vaultFixture,
} from "./fixtures";

const SUPPLY = 100n * ONE_SHARE;
/** Index after distributing `amount` over `supply` from zero, as the contract computes it. */
const indexFor = (amount: bigint, supply = SUPPLY) => (amount * PRECISION) / supply;

/** alice, bob and carol hold one share each; `pay(amount)` credits the vault in the stand-in escrow and harvests. */
async function threeSingleSharesVault() {
  const base = await loadFixture(deployedFixture);
  const { factory, usdc, escrow, originator, manager, alice, bob, carol, funder, assetId } = base;
  await factory
    .connect(originator)
    .createVault(
      assetId,
      await usdc.getAddress(),
      manager.address,
      [alice.address, bob.address, carol.address],
      [1n, 1n, 1n],
    );
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), funder);
  const pay = async (amount: bigint) => {
    await usdc.mint(funder.address, amount);
    await usdc.connect(funder).approve(await escrow.getAddress(), amount);
    await escrow.connect(funder).credit(await vault.getAddress(), await usdc.getAddress(), amount);
    await vault.harvest();
  };
  return { ...base, vault, pay };
}

describe("RevenueSplitVault", function () {
  // The terms tests run against the real SettlementEscrow, which validates and versions the terms.
  describe("setLeaseTerms", function () {
    it("publishes the manager's terms in the escrow, as the NFT's owner", async function () {
      const { vault, escrow, usdc, manager, assetId } = await loadFixture(realEscrowVaultFixture);
      const terms = leaseTerms(await usdc.getAddress());
      await expect(vault.connect(manager).setLeaseTerms(terms))
        .to.emit(escrow, "LeaseTermsSet")
        .withArgs(assetId, 1n, await vault.getAddress(), anyValue);
      const stored = await escrow.leaseTermsOf(assetId);
      expect(stored.token).to.equal(await usdc.getAddress());
      expect(stored.reservationPricePerGpuHour).to.equal(terms.reservationPricePerGpuHour);
      expect(stored.usagePricePerBusyGpuHour).to.equal(terms.usagePricePerBusyGpuHour);
    });

    it("lets the manager change the terms, including to a usage-only price", async function () {
      const { vault, escrow, usdc, manager, assetId } = await loadFixture(realEscrowVaultFixture);
      await vault.connect(manager).setLeaseTerms(leaseTerms(await usdc.getAddress()));
      await vault
        .connect(manager)
        .setLeaseTerms(leaseTerms(await usdc.getAddress(), { reservationPricePerGpuHour: 0n }));
      expect((await escrow.leaseTermsOf(assetId)).reservationPricePerGpuHour).to.equal(0n);
      expect((await escrow.leaseTermsOf(assetId)).usagePricePerBusyGpuHour).to.equal(1n * ONE_USDC);
    });

    it("reverts CallerNotManager for holders, the originator and strangers", async function () {
      const { vault, usdc, manager, alice, originator, stranger, escrow, assetId } =
        await loadFixture(realEscrowVaultFixture);
      const terms = leaseTerms(await usdc.getAddress());
      for (const caller of [alice, originator, stranger]) {
        await expect(vault.connect(caller).setLeaseTerms(terms))
          .to.be.revertedWithCustomError(vault, "CallerNotManager")
          .withArgs(caller.address, manager.address);
      }
      expect((await escrow.leaseTermsOf(assetId)).token).to.equal(ethers.ZeroAddress);
    });

    it("reverts TermsTokenNotRevenueToken for terms in another token", async function () {
      const { vault, usdc, manager, stranger, escrow, assetId } = await loadFixture(realEscrowVaultFixture);
      await expect(vault.connect(manager).setLeaseTerms(leaseTerms(stranger.address)))
        .to.be.revertedWithCustomError(vault, "TermsTokenNotRevenueToken")
        .withArgs(stranger.address, await usdc.getAddress());
      expect((await escrow.leaseTermsOf(assetId)).token).to.equal(ethers.ZeroAddress);
    });

    it("reverts FreeLeaseTerms when both prices are zero", async function () {
      const { vault, usdc, manager } = await loadFixture(realEscrowVaultFixture);
      await expect(
        vault
          .connect(manager)
          .setLeaseTerms(
            leaseTerms(await usdc.getAddress(), { reservationPricePerGpuHour: 0n, usagePricePerBusyGpuHour: 0n }),
          ),
      ).to.be.revertedWithCustomError(vault, "FreeLeaseTerms");
    });

    it("gives the manager no other power: no NFT transfer, no revenue, no redemption", async function () {
      const { vault, nft, manager, assetId } = await loadFixture(harvestedFixture);
      const vaultAddress = await vault.getAddress();
      await expect(nft.connect(manager).transferFrom(vaultAddress, manager.address, assetId))
        .to.be.revertedWithCustomError(nft, "ERC721InsufficientApproval")
        .withArgs(manager.address, assetId);
      await expect(vault.connect(manager).claim(manager.address))
        .to.be.revertedWithCustomError(vault, "NothingToClaim")
        .withArgs(manager.address);
      await expect(vault.connect(manager).redeem(manager.address))
        .to.be.revertedWithCustomError(vault, "NotWholeSupply")
        .withArgs(manager.address, 0n, SUPPLY);
      expect(await nft.ownerOf(assetId)).to.equal(vaultAddress);
    });
  });

  describe("harvest", function () {
    it("withdraws the escrow balance and raises the index", async function () {
      const { vault, escrow, usdc, stranger, payVault } = await loadFixture(vaultFixture);
      const amount = 1_000n * ONE_USDC;
      await payVault(amount);
      expect(await vault.pendingHarvest()).to.equal(amount);
      const tx = vault.connect(stranger).harvest();
      await expect(tx).to.emit(vault, "RevenueHarvested").withArgs(stranger.address, amount, indexFor(amount), 0n);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, vault], [-amount, amount]);
      expect(await vault.revenuePerShareScaled()).to.equal(indexFor(amount));
      expect(await vault.totalHarvested()).to.equal(amount);
      expect(await vault.pendingHarvest()).to.equal(0n);
    });

    it("makes each holder's claimable pro rata to its shares", async function () {
      const { vault, alice, bob, carol } = await loadFixture(harvestedFixture);
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC);
      expect(await vault.claimable(bob.address)).to.equal(300n * ONE_USDC);
      expect(await vault.claimable(carol.address)).to.equal(200n * ONE_USDC);
    });

    it("adds up over several harvests", async function () {
      const { vault, payVault, alice, bob } = await loadFixture(harvestedFixture);
      await payVault(10n * ONE_USDC);
      await vault.harvest();
      expect(await vault.claimable(alice.address)).to.equal(505n * ONE_USDC);
      expect(await vault.claimable(bob.address)).to.equal(303n * ONE_USDC);
      expect(await vault.totalHarvested()).to.equal(1_010n * ONE_USDC);
    });

    it("also distributes tokens sent straight to the vault", async function () {
      const { vault, usdc, funder, alice } = await loadFixture(vaultFixture);
      await usdc.mint(funder.address, 100n);
      await usdc.connect(funder).transfer(await vault.getAddress(), 100n);
      await expect(vault.connect(funder).harvest())
        .to.emit(vault, "RevenueHarvested")
        .withArgs(funder.address, 100n, indexFor(100n), 0n);
      expect(await vault.claimable(alice.address)).to.equal(50n);
    });

    it("does not lose 1 base unit over a supply of 1e27 shares", async function () {
      const { factory, usdc, escrow, originator, manager, alice, funder, assetId } = await loadFixture(deployedFixture);
      const supply = 10n ** 27n;
      await factory
        .connect(originator)
        .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [supply]);
      const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), alice);
      await usdc.mint(funder.address, 1n);
      await usdc.connect(funder).approve(await escrow.getAddress(), 1n);
      await escrow.connect(funder).credit(await vault.getAddress(), await usdc.getAddress(), 1n);
      await expect(vault.harvest()).to.emit(vault, "RevenueHarvested").withArgs(alice.address, 1n, 1000n, 0n);
      expect(await vault.claimable(alice.address)).to.equal(1n);
      await expect(vault.claim(alice.address)).to.changeTokenBalances(usdc, [vault, alice], [-1n, 1n]);
    });

    it("carries what does not divide evenly, keeps it visible and distributes it later", async function () {
      // 3 shares: 1 unit gives each 1e30/3 scaled, carry 1e30 mod 3 = 1.
      const { vault, pay, usdc, alice, bob, carol } = await threeSingleSharesVault();
      await pay(1n);
      expect(await vault.undistributedScaled()).to.equal(1n);
      expect(await vault.accruedScaled(alice.address)).to.equal(PRECISION / 3n);
      expect(await vault.claimable(alice.address)).to.equal(0n);
      await pay(2n);
      expect(await vault.undistributedScaled()).to.equal(0n);
      for (const holder of [alice, bob, carol]) {
        expect(await vault.accruedScaled(holder.address)).to.equal(PRECISION);
        expect(await vault.claimable(holder.address)).to.equal(1n);
      }
    });

    it("takes a claimer's sub-unit remainder into the carry and hands it out with the next harvest", async function () {
      const { vault, pay, usdc, alice, bob, carol } = await threeSingleSharesVault();
      await pay(4n); // each holder: 4/3 units
      const index = (4n * PRECISION) / 3n;
      const carry = (4n * PRECISION) % 3n;
      await expect(vault.connect(alice).claim(alice.address)).to.changeTokenBalances(usdc, [vault, alice], [-1n, 1n]);
      expect(await vault.accruedScaled(alice.address)).to.equal(0n);
      expect(await vault.undistributedScaled()).to.equal(carry + (index % PRECISION));
      await pay(1n);
      // (1 unit + carry) over 3 shares: 1/3 + 1/9 (alice's third of a unit, shared by all) + ...
      const index2 = index + (PRECISION + carry + (index % PRECISION)) / 3n;
      expect(await vault.revenuePerShareScaled()).to.equal(index2);
      expect(await vault.claimable(bob.address)).to.equal(index2 / PRECISION);
      const total =
        (await vault.totalClaimed()) * PRECISION +
        (await vault.accruedScaled(alice.address)) +
        (await vault.accruedScaled(bob.address)) +
        (await vault.accruedScaled(carol.address)) +
        (await vault.undistributedScaled());
      expect(total).to.equal(5n * PRECISION);
    });

    it("reverts NothingToHarvest when there is no new revenue, changing nothing", async function () {
      const { vault, usdc } = await loadFixture(harvestedFixture);
      const before = await vault.revenuePerShareScaled();
      await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
      expect(await vault.revenuePerShareScaled()).to.equal(before);
      expect(await vault.totalHarvested()).to.equal(1_000n * ONE_USDC);
      expect(await usdc.balanceOf(await vault.getAddress())).to.equal(1_000n * ONE_USDC);
    });
  });

  describe("claim", function () {
    it("pays the caller's claimable revenue to itself", async function () {
      const { vault, usdc, alice } = await loadFixture(harvestedFixture);
      const tx = vault.connect(alice).claim(alice.address);
      await expect(tx)
        .to.emit(vault, "RevenueClaimed")
        .withArgs(alice.address, alice.address, 500n * ONE_USDC);
      await expect(tx).to.changeTokenBalances(usdc, [vault, alice], [-500n * ONE_USDC, 500n * ONE_USDC]);
      expect(await vault.claimable(alice.address)).to.equal(0n);
      expect(await vault.totalClaimed()).to.equal(500n * ONE_USDC);
    });

    it("pays to another address", async function () {
      const { vault, usdc, bob, dave } = await loadFixture(harvestedFixture);
      const tx = vault.connect(bob).claim(dave.address);
      await expect(tx)
        .to.emit(vault, "RevenueClaimed")
        .withArgs(bob.address, dave.address, 300n * ONE_USDC);
      await expect(tx).to.changeTokenBalances(usdc, [vault, bob, dave], [-300n * ONE_USDC, 0n, 300n * ONE_USDC]);
    });

    it("leaves other holders' claims intact", async function () {
      const { vault, alice, bob, carol } = await loadFixture(harvestedFixture);
      await vault.connect(alice).claim(alice.address);
      expect(await vault.claimable(bob.address)).to.equal(300n * ONE_USDC);
      expect(await vault.claimable(carol.address)).to.equal(200n * ONE_USDC);
    });

    it("reverts NothingToClaim for a non-holder and after a claim, changing nothing", async function () {
      const { vault, alice, stranger } = await loadFixture(harvestedFixture);
      await expect(vault.connect(stranger).claim(stranger.address))
        .to.be.revertedWithCustomError(vault, "NothingToClaim")
        .withArgs(stranger.address);
      await vault.connect(alice).claim(alice.address);
      await expect(vault.connect(alice).claim(alice.address))
        .to.be.revertedWithCustomError(vault, "NothingToClaim")
        .withArgs(alice.address);
      expect(await vault.totalClaimed()).to.equal(500n * ONE_USDC);
    });

    it("reverts InvalidRecipient for the zero address, changing nothing", async function () {
      const { vault, alice } = await loadFixture(harvestedFixture);
      await expect(vault.connect(alice).claim(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(vault, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC);
    });

    describe("when the revenue token blocklists a holder", function () {
      it("blocks only that holder's own claim to itself", async function () {
        const { vault, token, alice, bob } = await loadFixture(blocklistFixture);
        await token.setBlocklisted(alice.address, true);
        await expect(vault.connect(alice).claim(alice.address))
          .to.be.revertedWithCustomError(token, "Blocklisted")
          .withArgs(alice.address);
        await expect(vault.connect(bob).claim(bob.address)).to.changeTokenBalances(token, [vault, bob], [-50n, 50n]);
        expect(await vault.claimable(alice.address)).to.equal(50n);
      });

      it("lets the blocklisted holder claim to another address", async function () {
        const { vault, token, alice, dave } = await loadFixture(blocklistFixture);
        await token.setBlocklisted(alice.address, true);
        await expect(vault.connect(alice).claim(dave.address)).to.changeTokenBalances(
          token,
          [vault, dave],
          [-50n, 50n],
        );
      });

      it("does not stop the blocklisted holder's shares from moving or others from harvesting", async function () {
        const { vault, token, escrow, funder, alice, bob } = await loadFixture(blocklistFixture);
        await token.setBlocklisted(alice.address, true);
        await vault.connect(alice).transfer(bob.address, 10n);
        await token.mint(funder.address, 100n);
        await token.connect(funder).approve(await escrow.getAddress(), 100n);
        await escrow.connect(funder).credit(await vault.getAddress(), await token.getAddress(), 100n);
        await vault.connect(bob).harvest();
        expect(await vault.claimable(bob.address)).to.equal(50n + 60n);
        expect(await vault.claimable(alice.address)).to.equal(50n + 40n);
      });
    });

    describe("when the revenue token calls back into the vault", function () {
      it("refuses re-entry during a claim (harvest, claim and transfer all hold the guard)", async function () {
        const { vault, token, alice, bob } = await loadFixture(reentrantFixture);
        const selector = vault.interface.getError("ReentrancyGuardReentrantCall")!.selector;
        const attempts: [typeof alice, string][] = [
          [alice, vault.interface.encodeFunctionData("harvest")],
          [bob, vault.interface.encodeFunctionData("transfer", [alice.address, 0n])],
        ];
        for (const [holder, data] of attempts) {
          await token.arm(await vault.getAddress(), data);
          await expect(vault.connect(holder).claim(holder.address))
            .to.emit(token, "ReentryAttempted")
            .withArgs(await vault.getAddress(), false, selector);
        }
        await token.arm(await vault.getAddress(), vault.interface.encodeFunctionData("claim", [alice.address]));
        await token.mint(await vault.getAddress(), 10n);
        await vault.harvest();
        await expect(vault.connect(alice).claim(alice.address))
          .to.emit(token, "ReentryAttempted")
          .withArgs(await vault.getAddress(), false, selector);
        expect(await vault.totalClaimed()).to.equal(105n);
      });
    });
  });

  describe("transfer", function () {
    it("settles both sides: shares moved between harvests earn for each holder only while held", async function () {
      const { vault, payVault, alice, dave } = await loadFixture(harvestedFixture);
      await vault.connect(alice).transfer(dave.address, 25n * ONE_SHARE);
      await payVault(1_000n * ONE_USDC);
      await vault.harvest();
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC + 250n * ONE_USDC);
      expect(await vault.claimable(dave.address)).to.equal(250n * ONE_USDC);
    });

    it("keeps the seller's past revenue when it sells everything", async function () {
      const { vault, carol, dave } = await loadFixture(harvestedFixture);
      await vault.connect(carol).transfer(dave.address, 20n * ONE_SHARE);
      expect(await vault.claimable(carol.address)).to.equal(200n * ONE_USDC);
      expect(await vault.claimable(dave.address)).to.equal(0n);
    });

    it("gives a buyer who buys right before and sells right after a harvest none of it", async function () {
      const { vault, payVault, alice, bob, dave } = await loadFixture(harvestedFixture);
      await payVault(1_000n * ONE_USDC); // settled revenue waiting in the escrow
      await expect(vault.connect(alice).transfer(dave.address, 50n * ONE_SHARE)).to.emit(vault, "RevenueHarvested");
      await expect(vault.harvest()).to.be.revertedWithCustomError(vault, "NothingToHarvest");
      await vault.connect(dave).transfer(alice.address, 50n * ONE_SHARE);
      expect(await vault.claimable(dave.address)).to.equal(0n);
      expect(await vault.claimable(alice.address)).to.equal(1_000n * ONE_USDC);
      expect(await vault.claimable(bob.address)).to.equal(600n * ONE_USDC);
    });

    it("moves shares through transferFrom after an EIP-2612 permit", async function () {
      const { vault, alice, dave } = await loadFixture(harvestedFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 40n;
      const signature = await alice.signTypedData(
        { name: await vault.name(), version: "1", chainId, verifyingContract: await vault.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: alice.address, spender: dave.address, value: 5n * ONE_SHARE, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(signature);
      await expect(vault.permit(alice.address, dave.address, 5n * ONE_SHARE, deadline, v, r, s))
        .to.emit(vault, "Approval")
        .withArgs(alice.address, dave.address, 5n * ONE_SHARE);
      expect(await vault.nonces(alice.address)).to.equal(1n);
      await expect(
        vault.connect(dave).transferFrom(alice.address, dave.address, 5n * ONE_SHARE),
      ).to.changeTokenBalances(vault, [alice, dave], [-5n * ONE_SHARE, 5n * ONE_SHARE]);
      const domain = await vault.eip712Domain();
      expect(domain.name).to.equal("GPU Asset #1 Revenue Share");
    });

    it("reverts ERC20InsufficientBalance beyond the balance, changing nothing", async function () {
      const { vault, alice, dave } = await loadFixture(harvestedFixture);
      await expect(vault.connect(alice).transfer(dave.address, 50n * ONE_SHARE + 1n))
        .to.be.revertedWithCustomError(vault, "ERC20InsufficientBalance")
        .withArgs(alice.address, 50n * ONE_SHARE, 50n * ONE_SHARE + 1n);
      expect(await vault.balanceOf(alice.address)).to.equal(50n * ONE_SHARE);
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC);
    });

    it("reverts ERC20InvalidReceiver for the zero address", async function () {
      const { vault, alice } = await loadFixture(harvestedFixture);
      await expect(vault.connect(alice).transfer(ethers.ZeroAddress, 1n))
        .to.be.revertedWithCustomError(vault, "ERC20InvalidReceiver")
        .withArgs(ethers.ZeroAddress);
    });

    it("settles correctly for a transfer to oneself", async function () {
      const { vault, payVault, alice } = await loadFixture(harvestedFixture);
      await payVault(100n * ONE_USDC);
      await vault.connect(alice).transfer(alice.address, 10n * ONE_SHARE);
      expect(await vault.balanceOf(alice.address)).to.equal(50n * ONE_SHARE);
      expect(await vault.claimable(alice.address)).to.equal(550n * ONE_USDC);
    });
  });

  describe("redeem", function () {
    async function wholeSupplyFixture() {
      const base = await harvestedFixture();
      const { vault, alice, bob, carol } = base;
      await vault.connect(bob).transfer(alice.address, 30n * ONE_SHARE);
      await vault.connect(carol).transfer(alice.address, 20n * ONE_SHARE);
      return base;
    }

    it("burns the entire supply and sends the NFT, harvesting pending revenue for the redeemer first", async function () {
      const { vault, nft, usdc, escrow, payVault, alice, dave, assetId } = await loadFixture(wholeSupplyFixture);
      await payVault(40n * ONE_USDC);
      const tx = vault.connect(alice).redeem(dave.address);
      await expect(tx).to.emit(vault, "Redeemed").withArgs(alice.address, dave.address, assetId, SUPPLY);
      await expect(tx).to.emit(vault, "Transfer").withArgs(alice.address, ethers.ZeroAddress, SUPPLY);
      await expect(tx)
        .to.emit(nft, "Transfer")
        .withArgs(await vault.getAddress(), dave.address, assetId);
      await expect(tx).to.changeTokenBalances(usdc, [escrow, vault], [-40n * ONE_USDC, 40n * ONE_USDC]);
      expect(await nft.ownerOf(assetId)).to.equal(dave.address);
      expect(await vault.totalSupply()).to.equal(0n);
      expect(await vault.balanceOf(alice.address)).to.equal(0n);
      expect(await vault.redeemedBy()).to.equal(alice.address);
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC + 40n * ONE_USDC);
    });

    it("keeps other holders' earlier revenue claimable", async function () {
      const { vault, alice, bob, carol } = await loadFixture(wholeSupplyFixture);
      await vault.connect(alice).redeem(alice.address);
      expect(await vault.claimable(bob.address)).to.equal(300n * ONE_USDC);
      await expect(vault.connect(carol).claim(carol.address)).to.emit(vault, "RevenueClaimed");
    });

    // The real escrow pays a charge released after the redemption to the redeemer (the NFT's owner by
    // then), never to the vault: only the test-only escrow can still credit the vault here.
    it("credits revenue that reaches the vault after the redemption to the redeemer", async function () {
      const { vault, payVault, alice, stranger } = await loadFixture(wholeSupplyFixture);
      await vault.connect(alice).redeem(alice.address);
      await payVault(7n);
      await expect(vault.connect(stranger).harvest()).to.emit(vault, "RevenueHarvested");
      expect(await vault.claimable(alice.address)).to.equal(500n * ONE_USDC + 7n);
    });

    it("keeps a live lease running: the lessee stays the user", async function () {
      const { factory, nft, usdc, originator, manager, alice, stranger, lessee, assetId, expires } =
        await loadFixture(realEscrowLeasedFixture);
      await factory
        .connect(originator)
        .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]);
      const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(assetId), alice);
      await vault.redeem(stranger.address);
      expect(await nft.ownerOf(assetId)).to.equal(stranger.address);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      expect(await nft.userExpires(assetId)).to.equal(expires);
    });

    it("reverts NotWholeSupply for a partial holder, changing nothing", async function () {
      const { vault, nft, alice, assetId } = await loadFixture(harvestedFixture);
      await expect(vault.connect(alice).redeem(alice.address))
        .to.be.revertedWithCustomError(vault, "NotWholeSupply")
        .withArgs(alice.address, 50n * ONE_SHARE, SUPPLY);
      expect(await nft.ownerOf(assetId)).to.equal(await vault.getAddress());
      expect(await vault.totalSupply()).to.equal(SUPPLY);
    });

    it("reverts InvalidRecipient for the zero address", async function () {
      const { vault, alice } = await loadFixture(wholeSupplyFixture);
      await expect(vault.connect(alice).redeem(ethers.ZeroAddress))
        .to.be.revertedWithCustomError(vault, "InvalidRecipient")
        .withArgs(ethers.ZeroAddress);
    });

    it("reverts ERC721InvalidReceiver for a contract that cannot hold the NFT, changing nothing", async function () {
      const { vault, nft, usdc, alice } = await loadFixture(wholeSupplyFixture);
      await expect(vault.connect(alice).redeem(await usdc.getAddress()))
        .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
        .withArgs(await usdc.getAddress());
      expect(await vault.totalSupply()).to.equal(SUPPLY);
    });
  });
});

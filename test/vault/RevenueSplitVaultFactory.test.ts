import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { RevenueSplitVault__factory } from "../../typechain-types";
import {
  ONE_SHARE,
  leaseTerms,
  realEscrowDeployedFixture,
  realEscrowLeasedFixture,
  realEscrowVaultFixture,
} from "./fixtures";
import { FINISHED_STATES, UNFINISHED_STATES, leaseInState, type Base } from "./leaseStates";

/** What createVault must leave unchanged when it reverts: the NFT, vaultOf, the escrow's view of the asset. */
async function snapshot(base: Base, leaseIds: bigint[]) {
  const { nft, factory, escrow, originator, usdc, otherToken, assetId } = base;
  return {
    owner: await nft.ownerOf(assetId),
    vault: await factory.vaultOf(assetId),
    unfinished: [...(await escrow.unfinishedLeasesOf(assetId))],
    leases: await Promise.all(leaseIds.map(async (id) => [...(await escrow.leaseOf(id))])),
    owed: [
      await escrow.withdrawable(originator.address, await usdc.getAddress()),
      await escrow.withdrawable(originator.address, await otherToken.getAddress()),
    ],
  };
}

// Every factory test runs against the real SettlementEscrow (whose terms createVault reads).
describe("RevenueSplitVaultFactory", function () {
  describe("constructor", function () {
    it("records the NFT and escrow and deploys an implementation bound to them and to itself", async function () {
      const { factory, nft, escrow, admin } = await loadFixture(realEscrowDeployedFixture);
      expect(await factory.nft()).to.equal(await nft.getAddress());
      expect(await factory.escrow()).to.equal(await escrow.getAddress());
      const impl = RevenueSplitVault__factory.connect(await factory.implementation(), admin);
      expect(await impl.factory()).to.equal(await factory.getAddress());
      expect(await impl.nft()).to.equal(await nft.getAddress());
      expect(await impl.escrow()).to.equal(await escrow.getAddress());
    });

    it("leaves the implementation impossible to initialize for anyone", async function () {
      const { factory, admin, stranger } = await loadFixture(realEscrowDeployedFixture);
      const impl = RevenueSplitVault__factory.connect(await factory.implementation(), admin);
      await expect(impl.connect(stranger).initialize([stranger.address], [1n]))
        .to.be.revertedWithCustomError(impl, "CallerNotFactory")
        .withArgs(stranger.address);
    });
  });

  describe("createVault", function () {
    it("creates a clone holding the NFT, mints the shares and records it in vaultOf", async function () {
      const { factory, nft, usdc, originator, manager, alice, bob, carol, assetId } =
        await loadFixture(realEscrowDeployedFixture);
      const holders = [alice.address, bob.address, carol.address];
      const amounts = [50n * ONE_SHARE, 30n * ONE_SHARE, 20n * ONE_SHARE];
      const predicted = await factory
        .connect(originator)
        .createVault.staticCall(assetId, await usdc.getAddress(), manager.address, holders, amounts);
      const tx = factory
        .connect(originator)
        .createVault(assetId, await usdc.getAddress(), manager.address, holders, amounts);
      await expect(tx)
        .to.emit(factory, "VaultCreated")
        .withArgs(assetId, predicted, originator.address, await usdc.getAddress(), manager.address, 100n * ONE_SHARE);
      const vault = RevenueSplitVault__factory.connect(predicted, originator);
      await expect(tx).to.emit(nft, "Transfer").withArgs(originator.address, predicted, assetId);
      await expect(tx)
        .to.emit(vault, "Transfer")
        .withArgs(ethers.ZeroAddress, alice.address, 50n * ONE_SHARE);
      for (const [i, holder] of [alice, bob, carol].entries()) {
        expect(await vault.balanceOf(holder.address)).to.equal(amounts[i]);
      }
      expect(await factory.vaultOf(assetId)).to.equal(predicted);
      expect(await nft.ownerOf(assetId)).to.equal(predicted);
      expect(await vault.totalSupply()).to.equal(100n * ONE_SHARE);
      expect(await vault.assetId()).to.equal(assetId);
      expect(await vault.revenueToken()).to.equal(await usdc.getAddress());
      expect(await vault.manager()).to.equal(manager.address);
      expect(await vault.factory()).to.equal(await factory.getAddress());
    });

    it("makes the vault an EIP-1167 clone of the implementation with the config as immutable arguments", async function () {
      const { factory, vault, usdc, manager, assetId } = await loadFixture(realEscrowVaultFixture);
      const code = await ethers.provider.getCode(await vault.getAddress());
      const impl = (await factory.implementation()).toLowerCase().slice(2);
      expect(code.slice(0, 22)).to.equal("0x363d3d373d3d3d363d73");
      expect(code.slice(22, 62)).to.equal(impl);
      const args = ethers.AbiCoder.defaultAbiCoder().encode(
        ["uint256", "address", "address"],
        [assetId, await usdc.getAddress(), manager.address],
      );
      expect(code.endsWith(args.slice(2))).to.equal(true);
    });

    it("names the shares after the asset", async function () {
      const { vault } = await loadFixture(realEscrowVaultFixture);
      expect(await vault.name()).to.equal("GPU Asset #1 Revenue Share");
      expect(await vault.symbol()).to.equal("GPURS-1");
      expect(await vault.decimals()).to.equal(18n);
    });

    it("keeps a live lease untouched: the lessee stays the NFT's user", async function () {
      const { factory, nft, usdc, originator, manager, alice, lessee, assetId, expires } =
        await loadFixture(realEscrowLeasedFixture);
      await factory
        .connect(originator)
        .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]);
      expect(await nft.ownerOf(assetId)).to.equal(await factory.vaultOf(assetId));
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      expect(await nft.userExpires(assetId)).to.equal(expires);
    });

    it("accepts published terms in the revenue token", async function () {
      const { factory, escrow, usdc, originator, manager, alice, assetId } =
        await loadFixture(realEscrowDeployedFixture);
      await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(await usdc.getAddress()));
      await expect(
        factory
          .connect(originator)
          .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
      ).to.emit(factory, "VaultCreated");
    });

    it("lets the owner create a new vault after a redemption, replacing vaultOf", async function () {
      const { factory, vault, usdc, manager, alice, bob, carol, nft, assetId } =
        await loadFixture(realEscrowVaultFixture);
      await vault.connect(bob).transfer(alice.address, await vault.balanceOf(bob.address));
      await vault.connect(carol).transfer(alice.address, await vault.balanceOf(carol.address));
      await vault.connect(alice).redeem(alice.address);
      await nft.connect(alice).approve(await factory.getAddress(), assetId);
      await factory.connect(alice).createVault(assetId, await usdc.getAddress(), manager.address, [bob.address], [7n]);
      const second = await factory.vaultOf(assetId);
      expect(second).to.not.equal(await vault.getAddress());
      expect(await nft.ownerOf(assetId)).to.equal(second);
    });

    describe("when the asset has unfinished leases in another token (issue 14, point 4)", function () {
      for (const state of UNFINISHED_STATES) {
        it(`reverts UnfinishedLeasesInOtherToken while a lease in another token is ${state}, changing nothing; once finished, creates the vault`, async function () {
          const base = await loadFixture(realEscrowDeployedFixture);
          const { factory, escrow, originator, usdc, otherToken, manager, alice, assetId } = base;
          const lease = await leaseInState(base, await otherToken.getAddress(), state);
          // The owner switches the terms to the vault's token, as someone stranding revenue would.
          await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(await usdc.getAddress()));
          const before = await snapshot(base, [lease.leaseId]);
          expect(before.unfinished).to.deep.equal([1n, await otherToken.getAddress()]);
          const create = async () =>
            factory
              .connect(originator)
              .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]);
          await expect(create())
            .to.be.revertedWithCustomError(factory, "UnfinishedLeasesInOtherToken")
            .withArgs(assetId, await otherToken.getAddress(), await usdc.getAddress(), 1n);
          expect(await snapshot(base, [lease.leaseId])).to.deep.equal(before);
          await lease.finish();
          expect([...(await escrow.unfinishedLeasesOf(assetId))]).to.deep.equal([0n, ethers.ZeroAddress]);
          await expect(create()).to.emit(factory, "VaultCreated");
          expect(await base.nft.ownerOf(assetId)).to.equal(await factory.vaultOf(assetId));
        });
      }

      it("reverts UnfinishedLeasesInOtherToken as well when the owner withdrew the terms instead", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, usdc, otherToken, manager, alice, assetId } = base;
        const lease = await leaseInState(base, await otherToken.getAddress(), "running");
        await escrow.connect(originator).removeLeaseTerms(assetId);
        const before = await snapshot(base, [lease.leaseId]);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        )
          .to.be.revertedWithCustomError(factory, "UnfinishedLeasesInOtherToken")
          .withArgs(assetId, await otherToken.getAddress(), await usdc.getAddress(), 1n);
        expect(await snapshot(base, [lease.leaseId])).to.deep.equal(before);
      });

      it("reports MIXED_TOKENS for unfinished leases in several tokens, refusing even one of their tokens until they are finished", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, usdc, otherToken, manager, alice, assetId } = base;
        const first = await leaseInState(base, await otherToken.getAddress(), "expired, not closed");
        const second = await leaseInState(base, await usdc.getAddress(), "running");
        const mixed = await escrow.MIXED_TOKENS();
        expect(mixed).to.equal(ethers.getAddress("0x0000000000000000000000000000000000000001"));
        const before = await snapshot(base, [first.leaseId, second.leaseId]);
        expect(before.unfinished).to.deep.equal([2n, mixed]);
        const create = async () =>
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]);
        await expect(create())
          .to.be.revertedWithCustomError(factory, "UnfinishedLeasesInOtherToken")
          .withArgs(assetId, mixed, await usdc.getAddress(), 2n);
        expect(await snapshot(base, [first.leaseId, second.leaseId])).to.deep.equal(before);
        await first.finish();
        await second.finish();
        await expect(create()).to.emit(factory, "VaultCreated");
      });

      it("accepts unfinished leases in the revenue token", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, usdc, manager, alice, assetId } = base;
        // One lease in each unfinished state, one after the other (the running one last: it holds the asset).
        for (const state of [...UNFINISHED_STATES].reverse()) await leaseInState(base, await usdc.getAddress(), state);
        expect([...(await escrow.unfinishedLeasesOf(assetId))]).to.deep.equal([4n, await usdc.getAddress()]);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        ).to.emit(factory, "VaultCreated");
      });

      it("ignores finished leases in another token (closed, and any dispute resolved)", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, usdc, otherToken, manager, alice, assetId } = base;
        for (const state of FINISHED_STATES) await leaseInState(base, await otherToken.getAddress(), state);
        await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(await usdc.getAddress()));
        expect([...(await escrow.unfinishedLeasesOf(assetId))]).to.deep.equal([0n, ethers.ZeroAddress]);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        ).to.emit(factory, "VaultCreated");
      });
    });

    describe("when the input is bad (each reverts and leaves the NFT with its owner)", function () {
      async function expectNothingChanged(
        base: Pick<Awaited<ReturnType<typeof realEscrowDeployedFixture>>, "nft" | "factory" | "originator" | "assetId">,
      ) {
        expect(await base.nft.ownerOf(base.assetId)).to.equal(base.originator.address);
        expect(await base.factory.vaultOf(base.assetId)).to.equal(ethers.ZeroAddress);
      }

      it("reverts InvalidRevenueToken for the zero token", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, manager, alice, assetId } = base;
        await expect(
          factory.connect(originator).createVault(assetId, ethers.ZeroAddress, manager.address, [alice.address], [1n]),
        ).to.be.revertedWithCustomError(factory, "InvalidRevenueToken");
        await expectNothingChanged(base);
      });

      it("reverts InvalidManager for the zero manager", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, usdc, alice, assetId } = base;
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), ethers.ZeroAddress, [alice.address], [1n]),
        ).to.be.revertedWithCustomError(factory, "InvalidManager");
        await expectNothingChanged(base);
      });

      it("reverts RevenueTokenNotTermsToken when published terms use another token", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, escrow, originator, usdc, otherToken, manager, alice, assetId } = base;
        await escrow.connect(originator).setLeaseTerms(assetId, leaseTerms(await otherToken.getAddress()));
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        )
          .to.be.revertedWithCustomError(factory, "RevenueTokenNotTermsToken")
          .withArgs(assetId, await otherToken.getAddress(), await usdc.getAddress());
        await expectNothingChanged(base);
      });

      it("reverts InvalidAllocation for no holders or mismatched lengths", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, usdc, manager, alice, bob, assetId } = base;
        const impl = RevenueSplitVault__factory.connect(await factory.implementation(), originator);
        await expect(factory.connect(originator).createVault(assetId, await usdc.getAddress(), manager.address, [], []))
          .to.be.revertedWithCustomError(impl, "InvalidAllocation")
          .withArgs(0n, 0n);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address, bob.address], [1n]),
        )
          .to.be.revertedWithCustomError(impl, "InvalidAllocation")
          .withArgs(2n, 1n);
        await expectNothingChanged(base);
      });

      it("reverts ZeroShareAllocation for a zero amount", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, usdc, manager, alice, bob, assetId } = base;
        const impl = RevenueSplitVault__factory.connect(await factory.implementation(), originator);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address, bob.address], [1n, 0n]),
        )
          .to.be.revertedWithCustomError(impl, "ZeroShareAllocation")
          .withArgs(bob.address);
        await expectNothingChanged(base);
      });

      it("reverts ERC20InvalidReceiver for the zero holder", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, usdc, manager, assetId } = base;
        const impl = RevenueSplitVault__factory.connect(await factory.implementation(), originator);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [ethers.ZeroAddress], [1n]),
        )
          .to.be.revertedWithCustomError(impl, "ERC20InvalidReceiver")
          .withArgs(ethers.ZeroAddress);
        await expectNothingChanged(base);
      });

      it("reverts SafeCastOverflowedUintDowncast when the supply exceeds 96 bits", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, originator, usdc, manager, alice, bob, assetId } = base;
        const impl = RevenueSplitVault__factory.connect(await factory.implementation(), originator);
        const max96 = 2n ** 96n - 1n;
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address, bob.address], [max96, 1n]),
        )
          .to.be.revertedWithCustomError(impl, "SafeCastOverflowedUintDowncast")
          .withArgs(96n, max96 + 1n);
        await expectNothingChanged(base);
      });

      it("reverts ERC721InsufficientApproval when the factory is not approved", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, nft, originator, usdc, manager, alice, assetId } = base;
        await nft.connect(originator).approve(ethers.ZeroAddress, assetId);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        )
          .to.be.revertedWithCustomError(nft, "ERC721InsufficientApproval")
          .withArgs(await factory.getAddress(), assetId);
        await expectNothingChanged(base);
      });

      it("reverts ERC721IncorrectOwner when the caller does not own the asset", async function () {
        const base = await loadFixture(realEscrowDeployedFixture);
        const { factory, nft, originator, usdc, stranger, alice, assetId } = base;
        await expect(
          factory
            .connect(stranger)
            .createVault(assetId, await usdc.getAddress(), stranger.address, [alice.address], [1n]),
        )
          .to.be.revertedWithCustomError(nft, "ERC721IncorrectOwner")
          .withArgs(stranger.address, assetId, originator.address);
        await expectNothingChanged(base);
      });

      it("reverts when the asset is already in a vault (the vault owns it)", async function () {
        const { factory, nft, vault, originator, usdc, manager, alice, assetId } =
          await loadFixture(realEscrowVaultFixture);
        await expect(
          factory
            .connect(originator)
            .createVault(assetId, await usdc.getAddress(), manager.address, [alice.address], [1n]),
        )
          .to.be.revertedWithCustomError(nft, "ERC721InsufficientApproval")
          .withArgs(await factory.getAddress(), assetId);
        expect(await factory.vaultOf(assetId)).to.equal(await vault.getAddress());
      });
    });
  });

  describe("vaultOf", function () {
    it("is zero for an asset without a vault", async function () {
      const { factory } = await loadFixture(realEscrowVaultFixture);
      expect(await factory.vaultOf(2n)).to.equal(ethers.ZeroAddress);
    });
  });

  describe("RevenueSplitVault.initialize (through the factory only)", function () {
    it("reverts CallerNotFactory for anyone else", async function () {
      const { vault, stranger } = await loadFixture(realEscrowVaultFixture);
      await expect(vault.connect(stranger).initialize([stranger.address], [1n]))
        .to.be.revertedWithCustomError(vault, "CallerNotFactory")
        .withArgs(stranger.address);
    });

    it("reverts AlreadyInitialized even for the factory once shares exist", async function () {
      const { vault, factory, stranger } = await loadFixture(realEscrowVaultFixture);
      const factoryAddress = await factory.getAddress();
      await network.provider.send("hardhat_impersonateAccount", [factoryAddress]);
      await network.provider.send("hardhat_setBalance", [factoryAddress, "0xDE0B6B3A7640000"]);
      const asFactory = await ethers.getSigner(factoryAddress);
      await expect(vault.connect(asFactory).initialize([stranger.address], [1n]))
        .to.be.revertedWithCustomError(vault, "AlreadyInitialized")
        .withArgs(100n * ONE_SHARE);
      await network.provider.send("hardhat_stopImpersonatingAccount", [factoryAddress]);
      expect(await vault.balanceOf(stranger.address)).to.equal(0n);
    });
  });
});

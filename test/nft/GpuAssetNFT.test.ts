import { expect } from "chai";
import { ethers, network } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { GpuAssetNFT__factory, MockERC721Receiver__factory, MockUSDC__factory } from "../../typechain-types";
import {
  DAY,
  Status,
  deployedFixture,
  h100Spec,
  leasedFixture,
  mintedFixture,
  serialsHash,
  specTuple,
} from "./fixtures";

const ZERO = ethers.ZeroAddress;

/** MockERC721Receiver.Behaviour as the contract numbers it. */
const Behaviour = { Accept: 0, WrongSelector: 1, RevertWithError: 2, ForwardFromHook: 3, MintFromHook: 4 } as const;

describe("GpuAssetNFT", function () {
  describe("constructor", function () {
    it("gives the admin DEFAULT_ADMIN_ROLE and no other role", async function () {
      const { nft, admin } = await loadFixture(deployedFixture);
      expect(await nft.hasRole(await nft.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      for (const role of [await nft.REGISTRAR_ROLE(), await nft.PAUSER_ROLE(), await nft.LEASE_MANAGER_ROLE()]) {
        expect(await nft.hasRole(role, admin.address)).to.equal(false);
      }
    });

    it("names the roles keccak256 of their names", async function () {
      const { nft } = await loadFixture(deployedFixture);
      expect(await nft.REGISTRAR_ROLE()).to.equal(ethers.id("REGISTRAR_ROLE"));
      expect(await nft.PAUSER_ROLE()).to.equal(ethers.id("PAUSER_ROLE"));
      expect(await nft.LEASE_MANAGER_ROLE()).to.equal(ethers.id("LEASE_MANAGER_ROLE"));
    });

    it("starts unpaused with no asset, name GPU Asset and symbol GPUA", async function () {
      const { nft } = await loadFixture(deployedFixture);
      expect(await nft.paused()).to.equal(false);
      expect(await nft.lastAssetId()).to.equal(0n);
      expect(await nft.name()).to.equal("GPU Asset");
      expect(await nft.symbol()).to.equal("GPUA");
    });

    it("reverts ZeroAdmin for the zero address", async function () {
      const [deployer] = await ethers.getSigners();
      const factory = new GpuAssetNFT__factory(deployer);
      await expect(factory.deploy(ZERO)).to.be.revertedWithCustomError(factory, "ZeroAdmin");
    });
  });

  describe("supportsInterface", function () {
    const ids: [string, string][] = [
      ["ERC-165", "0x01ffc9a7"],
      ["ERC-721", "0x80ac58cd"],
      ["ERC-721 Metadata", "0x5b5e139f"],
      ["ERC-4907", "0xad092b5c"],
      ["ERC-4906", "0x49064906"],
      ["AccessControl", "0x7965db0b"],
    ];
    for (const [name, id] of ids) {
      it(`supports ${name} (${id})`, async function () {
        const { nft } = await loadFixture(deployedFixture);
        expect(await nft.supportsInterface(id)).to.equal(true);
      });
    }

    it("supports the IGpuAssetNFT id (XOR of its own selectors)", async function () {
      const { nft } = await loadFixture(deployedFixture);
      const own = [
        "REGISTRAR_ROLE()",
        "PAUSER_ROLE()",
        "LEASE_MANAGER_ROLE()",
        "mint(address,(string,string,bytes32,uint32,uint16,uint16))",
        "updateSpec(uint256,(string,string,bytes32,uint32,uint16,uint16))",
        "setStatus(uint256,uint8)",
        "burn(uint256)",
        "pause()",
        "unpause()",
        "specOf(uint256)",
        "statusOf(uint256)",
        "meteringLimits(uint256)",
        "isLeasable(uint256)",
        "isSerialsHashTaken(bytes32)",
        "lastAssetId()",
      ];
      const id = own.map((sig) => BigInt(ethers.id(sig).slice(0, 10))).reduce((a, b) => a ^ b, 0n);
      expect(await nft.supportsInterface(ethers.toBeHex(id, 4))).to.equal(true);
    });

    it("rejects 0xffffffff and an unrelated id", async function () {
      const { nft } = await loadFixture(deployedFixture);
      expect(await nft.supportsInterface("0xffffffff")).to.equal(false);
      expect(await nft.supportsInterface("0x36372b07")).to.equal(false); // ERC-20
    });
  });

  describe("mint", function () {
    it("mints sequential ids from 1 to the recipient and emits Transfer", async function () {
      const { nft, registrar, operator, buyer } = await loadFixture(deployedFixture);
      await expect(nft.connect(registrar).mint(operator.address, h100Spec("A")))
        .to.emit(nft, "Transfer")
        .withArgs(ZERO, operator.address, 1n);
      await expect(nft.connect(registrar).mint(buyer.address, h100Spec("B")))
        .to.emit(nft, "Transfer")
        .withArgs(ZERO, buyer.address, 2n);
      expect(await nft.ownerOf(1n)).to.equal(operator.address);
      expect(await nft.ownerOf(2n)).to.equal(buyer.address);
      expect(await nft.balanceOf(operator.address)).to.equal(1n);
      expect(await nft.lastAssetId()).to.equal(2n);
    });

    it("changes the recipient's token balance by one", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      await expect(nft.connect(registrar).mint(operator.address, h100Spec("A"))).to.changeTokenBalance(
        nft,
        operator,
        1,
      );
    });

    it("stores the spec, Active status and the serials hash", async function () {
      const { nft, spec, assetId } = await loadFixture(mintedFixture);
      expect(await nft.specOf(assetId)).to.deep.equal(specTuple(spec));
      expect(await nft.statusOf(assetId)).to.equal(Status.Active);
      expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(true);
      expect(await nft.userOf(assetId)).to.equal(ZERO);
      expect(await nft.userExpires(assetId)).to.equal(0n);
    });

    it("accepts 31-byte strings and an empty datacenter", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      const spec = h100Spec("A", { gpuModel: "M".repeat(31), datacenter: "" });
      await nft.connect(registrar).mint(operator.address, spec);
      expect(await nft.specOf(1n)).to.deep.equal(specTuple(spec));
      const spec2 = h100Spec("B", { datacenter: "D".repeat(31) });
      await nft.connect(registrar).mint(operator.address, spec2);
      expect(await nft.specOf(2n)).to.deep.equal(specTuple(spec2));
    });

    it("accepts the largest values of every numeric field", async function () {
      const { nft, registrar, operator } = await loadFixture(deployedFixture);
      const spec = h100Spec("A", { vramMiBPerGpu: 2n ** 32n - 1n, gpuCount: 65_535, tdpWattsPerGpu: 65_535 });
      await nft.connect(registrar).mint(operator.address, spec);
      expect(await nft.specOf(1n)).to.deep.equal(specTuple(spec));
      expect(await nft.meteringLimits(1n)).to.deep.equal([65_535n, 65_535n, Status.Active]);
    });

    it("reverts AccessControlUnauthorizedAccount for anyone without REGISTRAR_ROLE", async function () {
      const { nft, admin, stranger, leaseManager } = await loadFixture(deployedFixture);
      for (const caller of [admin, stranger, leaseManager]) {
        await expect(nft.connect(caller).mint(caller.address, h100Spec("A")))
          .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, await nft.REGISTRAR_ROLE());
      }
    });

    it("reverts EnforcedPause while paused", async function () {
      const { nft, pauser, registrar, operator } = await loadFixture(deployedFixture);
      await nft.connect(pauser).pause();
      await expect(nft.connect(registrar).mint(operator.address, h100Spec("A"))).to.be.revertedWithCustomError(
        nft,
        "EnforcedPause",
      );
    });

    it("reverts ERC721InvalidReceiver for the zero address", async function () {
      const { nft, registrar } = await loadFixture(deployedFixture);
      await expect(nft.connect(registrar).mint(ZERO, h100Spec("A")))
        .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
        .withArgs(ZERO);
    });

    describe("when a spec field is invalid", function () {
      const longModel = "NVIDIA GeForce RTX 4090 D 24GB v2"; // 33 bytes
      const cases: [string, Parameters<typeof h100Spec>[1], string, unknown[]][] = [
        ["an empty model", { gpuModel: "" }, "EmptyGpuModel", []],
        ["a 32-byte model", { gpuModel: "M".repeat(32) }, "GpuModelTooLong", ["M".repeat(32)]],
        ["a 33-byte model", { gpuModel: longModel }, "GpuModelTooLong", [longModel]],
        ["a 32-byte datacenter", { datacenter: "D".repeat(32) }, "DatacenterTooLong", ["D".repeat(32)]],
        ["a zero GPU count", { gpuCount: 0 }, "InvalidGpuCount", [0n]],
        ["a zero TDP", { tdpWattsPerGpu: 0 }, "InvalidTdpWatts", [0n]],
        ["a zero VRAM", { vramMiBPerGpu: 0 }, "InvalidVram", [0n]],
        ["a zero serials hash", { serialsHash: ethers.ZeroHash }, "ZeroSerialsHash", []],
      ];
      for (const [what, overrides, error, args] of cases) {
        it(`reverts ${error} for ${what} and mints nothing`, async function () {
          const { nft, registrar, operator } = await loadFixture(deployedFixture);
          const spec = h100Spec("A", overrides);
          const call = expect(nft.connect(registrar).mint(operator.address, spec)).to.be.revertedWithCustomError(
            nft,
            error,
          );
          if (args.length > 0) await call.withArgs(...args);
          else await call;
          expect(await nft.lastAssetId()).to.equal(0n);
          expect(await nft.balanceOf(operator.address)).to.equal(0n);
          expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(false);
        });
      }
    });

    it("reverts SerialsHashTaken for the serials of an existing asset, whatever the rest of the spec", async function () {
      const { nft, registrar, buyer, spec } = await loadFixture(mintedFixture);
      const other = h100Spec("Z", { serialsHash: spec.serialsHash, gpuModel: "NVIDIA A100-SXM4-80GB", gpuCount: 4 });
      await expect(nft.connect(registrar).mint(buyer.address, other))
        .to.be.revertedWithCustomError(nft, "SerialsHashTaken")
        .withArgs(spec.serialsHash);
      expect(await nft.lastAssetId()).to.equal(1n);
      expect(await nft.balanceOf(buyer.address)).to.equal(0n);
    });

    describe("when the recipient is a contract (safe mint)", function () {
      async function receiverFixture() {
        const base = await deployedFixture();
        const receiver = await new MockERC721Receiver__factory(base.admin).deploy(await base.nft.getAddress());
        return { ...base, receiver };
      }

      it("replays the registrar's typo: minting to a contract that cannot hold NFTs reverts and changes nothing", async function () {
        const { nft, registrar, admin } = await loadFixture(deployedFixture);
        // The typo: the token contract's address pasted instead of the operator's wallet.
        const usdc = await new MockUSDC__factory(admin).deploy();
        const spec = h100Spec("A");
        await expect(nft.connect(registrar).mint(await usdc.getAddress(), spec))
          .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
          .withArgs(await usdc.getAddress());
        // Nothing is stranded: no asset, no balance, the serials are free, and the id is still unused.
        expect(await nft.lastAssetId()).to.equal(0n);
        expect(await nft.balanceOf(await usdc.getAddress())).to.equal(0n);
        expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(false);
        await expect(nft.ownerOf(1n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(1n);
        // The corrected call then mints id 1 to the intended wallet.
        const [, , , , operator] = await ethers.getSigners();
        await nft.connect(registrar).mint(operator.address, spec);
        expect(await nft.ownerOf(1n)).to.equal(operator.address);
      });

      it("refuses the NFT contract itself (it has no receiver hook)", async function () {
        const { nft, registrar } = await loadFixture(deployedFixture);
        await expect(nft.connect(registrar).mint(await nft.getAddress(), h100Spec("A")))
          .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
          .withArgs(await nft.getAddress());
        expect(await nft.lastAssetId()).to.equal(0n);
      });

      it("mints to a receiver that accepts, calling onERC721Received(registrar, 0, id, empty) once the asset is complete", async function () {
        const { nft, registrar, receiver } = await loadFixture(receiverFixture);
        const to = await receiver.getAddress();
        await expect(nft.connect(registrar).mint(to, h100Spec("A")))
          .to.emit(nft, "Transfer")
          .withArgs(ZERO, to, 1n)
          .and.to.emit(receiver, "HookCalled")
          // Inside the hook the receiver already reads itself as owner and the spec as stored.
          .withArgs(registrar.address, ZERO, 1n, "0x", to, 8n);
        expect(await nft.ownerOf(1n)).to.equal(to);
        expect(await nft.balanceOf(to)).to.equal(1n);
      });

      it("reverts ERC721InvalidReceiver when the hook answers another value, and mints nothing", async function () {
        const { nft, registrar, receiver } = await loadFixture(receiverFixture);
        await receiver.configure(Behaviour.WrongSelector, ZERO);
        const to = await receiver.getAddress();
        await expect(nft.connect(registrar).mint(to, h100Spec("A")))
          .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
          .withArgs(to);
        expect(await nft.lastAssetId()).to.equal(0n);
        expect(await nft.balanceOf(to)).to.equal(0n);
      });

      it("bubbles the receiver's own error up and mints nothing", async function () {
        const { nft, registrar, receiver } = await loadFixture(receiverFixture);
        await receiver.configure(Behaviour.RevertWithError, ZERO);
        const spec = h100Spec("A");
        await expect(nft.connect(registrar).mint(await receiver.getAddress(), spec))
          .to.be.revertedWithCustomError(receiver, "ReceiverRefused")
          .withArgs(1n);
        expect(await nft.lastAssetId()).to.equal(0n);
        expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(false);
      });

      it("lets the hook move the new asset on: the final state is the forwarded one, balances consistent", async function () {
        const { nft, registrar, receiver, buyer } = await loadFixture(receiverFixture);
        await receiver.configure(Behaviour.ForwardFromHook, buyer.address);
        const to = await receiver.getAddress();
        await expect(nft.connect(registrar).mint(to, h100Spec("A")))
          .to.emit(nft, "Transfer")
          .withArgs(to, buyer.address, 1n);
        expect(await nft.ownerOf(1n)).to.equal(buyer.address);
        expect(await nft.balanceOf(to)).to.equal(0n);
        expect(await nft.balanceOf(buyer.address)).to.equal(1n);
        expect(await nft.lastAssetId()).to.equal(1n);
      });

      it("reverts a mint re-entered from the hook by a non-registrar (AccessControlUnauthorizedAccount)", async function () {
        const { nft, registrar, receiver } = await loadFixture(receiverFixture);
        await receiver.configure(Behaviour.MintFromHook, ZERO);
        const to = await receiver.getAddress();
        await expect(nft.connect(registrar).mint(to, h100Spec("A")))
          .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
          .withArgs(to, await nft.REGISTRAR_ROLE());
        expect(await nft.lastAssetId()).to.equal(0n);
      });

      it("shows a re-entered mint a finished first asset: its serials are already taken", async function () {
        const { nft, admin, registrar, receiver } = await loadFixture(receiverFixture);
        const to = await receiver.getAddress();
        await nft.connect(admin).grantRole(await nft.REGISTRAR_ROLE(), to);
        await receiver.configure(Behaviour.MintFromHook, ZERO);
        const spec = h100Spec("A");
        await expect(nft.connect(registrar).mint(to, spec))
          .to.be.revertedWithCustomError(nft, "SerialsHashTaken")
          .withArgs(spec.serialsHash);
        expect(await nft.lastAssetId()).to.equal(0n);
      });
    });
  });

  describe("updateSpec", function () {
    it("replaces the spec under the same serials and emits SpecUpdated and MetadataUpdate", async function () {
      const { nft, registrar, assetId, spec } = await loadFixture(mintedFixture);
      const moved = h100Spec("A", { datacenter: "us-east-iad1", tdpWattsPerGpu: 600 });
      await expect(nft.connect(registrar).updateSpec(assetId, moved))
        .to.emit(nft, "SpecUpdated")
        .withArgs(assetId, spec.serialsHash, spec.serialsHash)
        .and.to.emit(nft, "MetadataUpdate")
        .withArgs(assetId);
      expect(await nft.specOf(assetId)).to.deep.equal(specTuple(moved));
      expect(await nft.meteringLimits(assetId)).to.deep.equal([8n, 600n, Status.Active]);
      expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(true);
    });

    it("moves to new serials and releases the old hash for a new mint", async function () {
      const { nft, registrar, operator, assetId, spec } = await loadFixture(mintedFixture);
      const swapped = h100Spec("N", { gpuModel: "NVIDIA H200", vramMiBPerGpu: 143_771 });
      await expect(nft.connect(registrar).updateSpec(assetId, swapped))
        .to.emit(nft, "SpecUpdated")
        .withArgs(assetId, spec.serialsHash, swapped.serialsHash);
      expect(await nft.specOf(assetId)).to.deep.equal(specTuple(swapped));
      expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(false);
      expect(await nft.isSerialsHashTaken(swapped.serialsHash)).to.equal(true);
      await nft.connect(registrar).mint(operator.address, spec);
      expect(await nft.specOf(2n)).to.deep.equal(specTuple(spec));
    });

    it("reverts SerialsHashTaken for the serials of another asset and changes nothing", async function () {
      const { nft, registrar, operator, assetId, spec } = await loadFixture(mintedFixture);
      const other = h100Spec("B");
      await nft.connect(registrar).mint(operator.address, other);
      await expect(nft.connect(registrar).updateSpec(assetId, { ...spec, serialsHash: other.serialsHash }))
        .to.be.revertedWithCustomError(nft, "SerialsHashTaken")
        .withArgs(other.serialsHash);
      expect(await nft.specOf(assetId)).to.deep.equal(specTuple(spec));
      expect(await nft.specOf(2n)).to.deep.equal(specTuple(other));
    });

    it("reverts SpecUnchanged for the current spec", async function () {
      const { nft, registrar, assetId, spec } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).updateSpec(assetId, spec))
        .to.be.revertedWithCustomError(nft, "SpecUnchanged")
        .withArgs(assetId);
    });

    it("reverts UserRightLive while leased", async function () {
      const { nft, registrar, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await expect(nft.connect(registrar).updateSpec(assetId, h100Spec("A", { gpuCount: 4 })))
        .to.be.revertedWithCustomError(nft, "UserRightLive")
        .withArgs(assetId, lessee.address, expires);
    });

    it("reverts AssetAlreadyRetired for a retired asset", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Retired);
      await expect(nft.connect(registrar).updateSpec(assetId, h100Spec("A", { gpuCount: 4 })))
        .to.be.revertedWithCustomError(nft, "AssetAlreadyRetired")
        .withArgs(assetId);
    });

    it("reverts the spec errors for an invalid spec and changes nothing", async function () {
      const { nft, registrar, assetId, spec } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).updateSpec(assetId, h100Spec("A", { tdpWattsPerGpu: 0 })))
        .to.be.revertedWithCustomError(nft, "InvalidTdpWatts")
        .withArgs(0n);
      await expect(
        nft.connect(registrar).updateSpec(assetId, h100Spec("A", { gpuModel: "" })),
      ).to.be.revertedWithCustomError(nft, "EmptyGpuModel");
      expect(await nft.specOf(assetId)).to.deep.equal(specTuple(spec));
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft, registrar } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).updateSpec(2n, h100Spec("B")))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(2n);
    });

    it("reverts AccessControlUnauthorizedAccount for the owner", async function () {
      const { nft, operator, assetId } = await loadFixture(mintedFixture);
      await expect(nft.connect(operator).updateSpec(assetId, h100Spec("A", { gpuCount: 4 })))
        .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
        .withArgs(operator.address, await nft.REGISTRAR_ROLE());
    });
  });

  describe("setStatus", function () {
    it("moves Active -> Maintenance -> Active with StatusChanged and MetadataUpdate", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).setStatus(assetId, Status.Maintenance))
        .to.emit(nft, "StatusChanged")
        .withArgs(assetId, Status.Active, Status.Maintenance)
        .and.to.emit(nft, "MetadataUpdate")
        .withArgs(assetId);
      expect(await nft.statusOf(assetId)).to.equal(Status.Maintenance);
      expect(await nft.meteringLimits(assetId)).to.deep.equal([8n, 700n, Status.Maintenance]);
      await expect(nft.connect(registrar).setStatus(assetId, Status.Active))
        .to.emit(nft, "StatusChanged")
        .withArgs(assetId, Status.Maintenance, Status.Active);
      expect(await nft.statusOf(assetId)).to.equal(Status.Active);
    });

    it("retires from Maintenance", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      await expect(nft.connect(registrar).setStatus(assetId, Status.Retired))
        .to.emit(nft, "StatusChanged")
        .withArgs(assetId, Status.Maintenance, Status.Retired);
    });

    it("puts a leased asset into Maintenance and keeps the user", async function () {
      const { nft, registrar, assetId, lessee } = await loadFixture(leasedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
    });

    it("reverts AssetAlreadyRetired for any change of a retired asset", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Retired);
      for (const status of [Status.Active, Status.Maintenance, Status.Retired]) {
        await expect(nft.connect(registrar).setStatus(assetId, status))
          .to.be.revertedWithCustomError(nft, "AssetAlreadyRetired")
          .withArgs(assetId);
      }
      expect(await nft.statusOf(assetId)).to.equal(Status.Retired);
    });

    it("reverts StatusUnchanged for the current status", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).setStatus(assetId, Status.Active))
        .to.be.revertedWithCustomError(nft, "StatusUnchanged")
        .withArgs(assetId, Status.Active);
    });

    describe("when retiring around the end of a user right", function () {
      it("reverts UserRightLive one second before expires and leaves the status", async function () {
        const { nft, registrar, assetId, lessee, expires } = await loadFixture(leasedFixture);
        await time.setNextBlockTimestamp(expires - 1n);
        await expect(nft.connect(registrar).setStatus(assetId, Status.Retired))
          .to.be.revertedWithCustomError(nft, "UserRightLive")
          .withArgs(assetId, lessee.address, expires);
        expect(await nft.statusOf(assetId)).to.equal(Status.Active);
      });

      it("retires at exactly expires", async function () {
        const { nft, registrar, assetId, expires } = await loadFixture(leasedFixture);
        await time.setNextBlockTimestamp(expires);
        await expect(nft.connect(registrar).setStatus(assetId, Status.Retired))
          .to.emit(nft, "StatusChanged")
          .withArgs(assetId, Status.Active, Status.Retired);
      });
    });

    it("reverts AccessControlUnauthorizedAccount for the owner and the lease manager", async function () {
      const { nft, operator, leaseManager, assetId } = await loadFixture(mintedFixture);
      for (const caller of [operator, leaseManager]) {
        await expect(nft.connect(caller).setStatus(assetId, Status.Maintenance))
          .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, await nft.REGISTRAR_ROLE());
      }
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft, registrar } = await loadFixture(mintedFixture);
      await expect(nft.connect(registrar).setStatus(7n, Status.Maintenance))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(7n);
    });

    it("reverts for a status outside the enum", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      const data = nft.interface.encodeFunctionData("setStatus", [assetId, 2]).slice(0, -2) + "03";
      await expect(registrar.sendTransaction({ to: await nft.getAddress(), data })).to.be.reverted;
      expect(await nft.statusOf(assetId)).to.equal(Status.Active);
    });
  });

  describe("burn", function () {
    it("burns for the owner, releases the serials and emits Transfer and AssetBurned", async function () {
      const { nft, operator, registrar, assetId, spec } = await loadFixture(mintedFixture);
      await expect(nft.connect(operator).burn(assetId))
        .to.emit(nft, "Transfer")
        .withArgs(operator.address, ZERO, assetId)
        .and.to.emit(nft, "AssetBurned")
        .withArgs(assetId, spec.serialsHash)
        .and.not.to.emit(nft, "UpdateUser");
      expect(await nft.balanceOf(operator.address)).to.equal(0n);
      expect(await nft.isSerialsHashTaken(spec.serialsHash)).to.equal(false);
      expect(await nft.isLeasable(assetId)).to.equal(false);
      for (const view of [nft.ownerOf, nft.specOf, nft.statusOf, nft.meteringLimits, nft.userOf, nft.tokenURI]) {
        await expect(view(assetId)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(assetId);
      }
      // The same machine may be registered again, under a new id.
      await nft.connect(registrar).mint(operator.address, spec);
      expect(await nft.lastAssetId()).to.equal(2n);
    });

    it("burns for an approved account and for an operator", async function () {
      const { nft, operator, registrar, approved, buyer, assetId } = await loadFixture(mintedFixture);
      await nft.connect(operator).approve(approved.address, assetId);
      await nft.connect(approved).burn(assetId);
      await nft.connect(registrar).mint(operator.address, h100Spec("B"));
      await nft.connect(operator).setApprovalForAll(buyer.address, true);
      await expect(nft.connect(buyer).burn(2n)).to.emit(nft, "AssetBurned");
    });

    it("burns after the user right expired and announces the user cleared", async function () {
      const { nft, operator, assetId, expires } = await loadFixture(leasedFixture);
      await time.setNextBlockTimestamp(expires);
      await expect(nft.connect(operator).burn(assetId)).to.emit(nft, "UpdateUser").withArgs(assetId, ZERO, 0n);
    });

    it("reverts UserRightLive one second before expires and keeps the asset", async function () {
      const { nft, operator, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await time.setNextBlockTimestamp(expires - 1n);
      await expect(nft.connect(operator).burn(assetId))
        .to.be.revertedWithCustomError(nft, "UserRightLive")
        .withArgs(assetId, lessee.address, expires);
      expect(await nft.ownerOf(assetId)).to.equal(operator.address);
    });

    it("reverts ERC721InsufficientApproval for anyone else, the registrar included", async function () {
      const { nft, stranger, registrar, assetId, operator } = await loadFixture(mintedFixture);
      for (const caller of [stranger, registrar]) {
        await expect(nft.connect(caller).burn(assetId))
          .to.be.revertedWithCustomError(nft, "ERC721InsufficientApproval")
          .withArgs(caller.address, assetId);
      }
      expect(await nft.ownerOf(assetId)).to.equal(operator.address);
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft, operator } = await loadFixture(mintedFixture);
      await expect(nft.connect(operator).burn(9n))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(9n);
    });
  });

  describe("pause / unpause", function () {
    it("pauses and unpauses for the pauser with Paused and Unpaused", async function () {
      const { nft, pauser } = await loadFixture(deployedFixture);
      await expect(nft.connect(pauser).pause()).to.emit(nft, "Paused").withArgs(pauser.address);
      expect(await nft.paused()).to.equal(true);
      await expect(nft.connect(pauser).unpause()).to.emit(nft, "Unpaused").withArgs(pauser.address);
      expect(await nft.paused()).to.equal(false);
    });

    it("reverts EnforcedPause / ExpectedPause for a no-op", async function () {
      const { nft, pauser } = await loadFixture(deployedFixture);
      await expect(nft.connect(pauser).unpause()).to.be.revertedWithCustomError(nft, "ExpectedPause");
      await nft.connect(pauser).pause();
      await expect(nft.connect(pauser).pause()).to.be.revertedWithCustomError(nft, "EnforcedPause");
    });

    it("reverts AccessControlUnauthorizedAccount for the admin and the registrar", async function () {
      const { nft, admin, registrar } = await loadFixture(deployedFixture);
      for (const caller of [admin, registrar]) {
        await expect(nft.connect(caller).pause())
          .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, await nft.PAUSER_ROLE());
        await expect(nft.connect(caller).unpause())
          .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
          .withArgs(caller.address, await nft.PAUSER_ROLE());
      }
    });

    it("keeps transfers, user rights, their expiry, status changes and burns working while paused", async function () {
      const { nft, pauser, operator, buyer, leaseManager, registrar, lessee, assetId, expires } =
        await loadFixture(leasedFixture);
      await nft.connect(pauser).pause();
      await nft.connect(operator).transferFrom(operator.address, buyer.address, assetId);
      await nft.connect(leaseManager).setUser(assetId, lessee.address, expires + DAY);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      await time.increaseTo(expires + DAY);
      expect(await nft.userOf(assetId)).to.equal(ZERO);
      await nft.connect(buyer).burn(assetId);
      expect(await nft.balanceOf(buyer.address)).to.equal(0n);
    });
  });

  describe("setUser", function () {
    it("sets a user on an Active asset and emits UpdateUser", async function () {
      const { nft, leaseManager, lessee, assetId } = await loadFixture(mintedFixture);
      const expires = BigInt(await time.latest()) + 7n * DAY;
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires))
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, lessee.address, expires);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      expect(await nft.userExpires(assetId)).to.equal(expires);
      expect(await nft.isLeasable(assetId)).to.equal(false);
    });

    it("extends, shortens, hands over and clears a live user right", async function () {
      const { nft, leaseManager, lessee, stranger, assetId, expires } = await loadFixture(leasedFixture);
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires + DAY))
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, lessee.address, expires + DAY);
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires - DAY))
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, lessee.address, expires - DAY);
      await nft.connect(leaseManager).setUser(assetId, stranger.address, expires);
      expect(await nft.userOf(assetId)).to.equal(stranger.address);
      await expect(nft.connect(leaseManager).setUser(assetId, ZERO, 0n))
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, ZERO, 0n);
      expect(await nft.userOf(assetId)).to.equal(ZERO);
      expect(await nft.userExpires(assetId)).to.equal(0n);
      expect(await nft.isLeasable(assetId)).to.equal(true);
    });

    it("extends a live user right on an asset in Maintenance", async function () {
      const { nft, leaseManager, registrar, lessee, assetId, expires } = await loadFixture(leasedFixture);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      await nft.connect(leaseManager).setUser(assetId, lessee.address, expires + DAY);
      expect(await nft.userExpires(assetId)).to.equal(expires + DAY);
    });

    describe("when the caller is not the lease manager", function () {
      it("reverts AccessControlUnauthorizedAccount for the owner, an approved account, the registrar and the admin", async function () {
        const { nft, operator, approved, registrar, admin, assetId, lessee, expires } =
          await loadFixture(leasedFixture);
        await nft.connect(operator).approve(approved.address, assetId);
        for (const caller of [operator, approved, registrar, admin]) {
          // Neither evicting, nor shortening, nor setting someone else.
          for (const [user, exp] of [
            [ZERO, 0n],
            [lessee.address, expires - 1n],
            [caller.address, expires],
          ] as [string, bigint][]) {
            await expect(nft.connect(caller).setUser(assetId, user, exp))
              .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
              .withArgs(caller.address, await nft.LEASE_MANAGER_ROLE());
          }
        }
        expect(await nft.userOf(assetId)).to.equal(lessee.address);
        expect(await nft.userExpires(assetId)).to.equal(expires);
      });
    });

    describe("at the expiry boundary", function () {
      it("reverts UserExpiryNotInFuture for expires equal to the block time", async function () {
        const { nft, leaseManager, lessee, assetId } = await loadFixture(mintedFixture);
        const now = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(now);
        await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, now))
          .to.be.revertedWithCustomError(nft, "UserExpiryNotInFuture")
          .withArgs(now, now);
        expect(await nft.userExpires(assetId)).to.equal(0n);
      });

      it("accepts expires one second after the block time", async function () {
        const { nft, leaseManager, lessee, assetId } = await loadFixture(mintedFixture);
        const now = BigInt(await time.latest()) + 10n;
        await time.setNextBlockTimestamp(now);
        await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, now + 1n))
          .to.emit(nft, "UpdateUser")
          .withArgs(assetId, lessee.address, now + 1n);
      });

      it("reverts UserExpiryNotInFuture for an expiry in the past", async function () {
        const { nft, leaseManager, lessee, assetId } = await loadFixture(mintedFixture);
        await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, 1n)).to.be.revertedWithCustomError(
          nft,
          "UserExpiryNotInFuture",
        );
      });

      it("extends a right one second before expires on an asset in Maintenance (still live)", async function () {
        const { nft, leaseManager, registrar, lessee, assetId, expires } = await loadFixture(leasedFixture);
        await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
        await time.setNextBlockTimestamp(expires - 1n);
        await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires + DAY))
          .to.emit(nft, "UpdateUser")
          .withArgs(assetId, lessee.address, expires + DAY);
      });

      it("reverts AssetNotActive for the same extension at expires on an asset in Maintenance (over)", async function () {
        const { nft, leaseManager, registrar, lessee, assetId, expires } = await loadFixture(leasedFixture);
        await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
        await time.setNextBlockTimestamp(expires);
        await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires + DAY))
          .to.be.revertedWithCustomError(nft, "AssetNotActive")
          .withArgs(assetId, Status.Maintenance);
        expect(await nft.userExpires(assetId)).to.equal(expires);
      });
    });

    it("reverts AssetNotActive for a new user on an asset in Maintenance or Retired", async function () {
      const { nft, leaseManager, registrar, lessee, assetId } = await loadFixture(mintedFixture);
      const expires = BigInt(await time.latest()) + DAY;
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires))
        .to.be.revertedWithCustomError(nft, "AssetNotActive")
        .withArgs(assetId, Status.Maintenance);
      await nft.connect(registrar).setStatus(assetId, Status.Retired);
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires))
        .to.be.revertedWithCustomError(nft, "AssetNotActive")
        .withArgs(assetId, Status.Retired);
      expect(await nft.userExpires(assetId)).to.equal(0n);
    });

    it("reverts ExpiryWithoutUser for the zero user with an expiry", async function () {
      const { nft, leaseManager, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await expect(nft.connect(leaseManager).setUser(assetId, ZERO, expires))
        .to.be.revertedWithCustomError(nft, "ExpiryWithoutUser")
        .withArgs(expires);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
    });

    it("reverts UserUnchanged for the stored user and expiry, and for clearing twice", async function () {
      const { nft, leaseManager, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await expect(nft.connect(leaseManager).setUser(assetId, lessee.address, expires))
        .to.be.revertedWithCustomError(nft, "UserUnchanged")
        .withArgs(assetId, lessee.address, expires);
      await nft.connect(leaseManager).setUser(assetId, ZERO, 0n);
      await expect(nft.connect(leaseManager).setUser(assetId, ZERO, 0n))
        .to.be.revertedWithCustomError(nft, "UserUnchanged")
        .withArgs(assetId, ZERO, 0n);
    });

    it("clears an expired right that is still stored", async function () {
      const { nft, leaseManager, assetId, expires } = await loadFixture(leasedFixture);
      await time.increaseTo(expires + 1n);
      await expect(nft.connect(leaseManager).setUser(assetId, ZERO, 0n))
        .to.emit(nft, "UpdateUser")
        .withArgs(assetId, ZERO, 0n);
      expect(await nft.userExpires(assetId)).to.equal(0n);
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft, leaseManager, lessee } = await loadFixture(mintedFixture);
      await expect(nft.connect(leaseManager).setUser(5n, lessee.address, 2n ** 40n))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(5n);
    });
  });

  describe("userOf / userExpires", function () {
    it("returns the user one second before expires and zero from expires on (expiry exclusive)", async function () {
      const { nft, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await time.increaseTo(expires - 1n);
      expect(await nft.userOf(assetId, { blockTag: "latest" })).to.equal(lessee.address);
      await time.increaseTo(expires);
      expect(await nft.userOf(assetId, { blockTag: "latest" })).to.equal(ZERO);
      expect(await nft.userExpires(assetId)).to.equal(expires); // stored value stays until cleared
    });

    it("returns zero and zero for an asset never leased", async function () {
      const { nft, assetId } = await loadFixture(mintedFixture);
      expect(await nft.userOf(assetId)).to.equal(ZERO);
      expect(await nft.userExpires(assetId)).to.equal(0n);
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft } = await loadFixture(mintedFixture);
      await expect(nft.userOf(3n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(3n);
      await expect(nft.userExpires(3n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(3n);
    });
  });

  describe("transferFrom / safeTransferFrom", function () {
    it("keeps a live user right through a transfer and a safe transfer, and clears the approval", async function () {
      const { nft, operator, buyer, approved, stranger, assetId, lessee, expires } = await loadFixture(leasedFixture);
      await nft.connect(operator).approve(approved.address, assetId);
      await expect(nft.connect(approved).transferFrom(operator.address, buyer.address, assetId))
        .to.emit(nft, "Transfer")
        .withArgs(operator.address, buyer.address, assetId)
        .and.not.to.emit(nft, "UpdateUser");
      expect(await nft.getApproved(assetId)).to.equal(ZERO);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
      expect(await nft.userExpires(assetId)).to.equal(expires);
      await nft.connect(buyer)["safeTransferFrom(address,address,uint256)"](buyer.address, stranger.address, assetId);
      expect(await nft.ownerOf(assetId)).to.equal(stranger.address);
      expect(await nft.userOf(assetId)).to.equal(lessee.address);
    });

    it("moves one token between balances", async function () {
      const { nft, operator, buyer, assetId } = await loadFixture(mintedFixture);
      await expect(nft.connect(operator).transferFrom(operator.address, buyer.address, assetId)).to.changeTokenBalances(
        nft,
        [operator, buyer],
        [-1, 1],
      );
    });

    it("reverts ERC721InsufficientApproval for a stranger and ERC721IncorrectOwner for a wrong from", async function () {
      const { nft, operator, stranger, buyer, assetId } = await loadFixture(mintedFixture);
      await expect(nft.connect(stranger).transferFrom(operator.address, stranger.address, assetId))
        .to.be.revertedWithCustomError(nft, "ERC721InsufficientApproval")
        .withArgs(stranger.address, assetId);
      await expect(nft.connect(operator).transferFrom(buyer.address, stranger.address, assetId))
        .to.be.revertedWithCustomError(nft, "ERC721IncorrectOwner")
        .withArgs(buyer.address, assetId, operator.address);
      expect(await nft.ownerOf(assetId)).to.equal(operator.address);
    });

    it("reverts ERC721InvalidReceiver for a safe transfer to a contract without the hook", async function () {
      const { nft, operator, assetId } = await loadFixture(mintedFixture);
      const target = await nft.getAddress();
      await expect(
        nft.connect(operator)["safeTransferFrom(address,address,uint256)"](operator.address, target, assetId),
      )
        .to.be.revertedWithCustomError(nft, "ERC721InvalidReceiver")
        .withArgs(target);
    });
  });

  describe("balanceOf / ownerOf", function () {
    it("reverts ERC721InvalidOwner for the zero address and ERC721NonexistentToken for an unknown id", async function () {
      const { nft } = await loadFixture(mintedFixture);
      await expect(nft.balanceOf(ZERO)).to.be.revertedWithCustomError(nft, "ERC721InvalidOwner").withArgs(ZERO);
      await expect(nft.ownerOf(0n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(0n);
    });
  });

  describe("specOf / statusOf", function () {
    it("reverts ERC721NonexistentToken for id 0 and an unminted id", async function () {
      const { nft } = await loadFixture(mintedFixture);
      for (const id of [0n, 2n]) {
        await expect(nft.specOf(id)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(id);
        await expect(nft.statusOf(id)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(id);
      }
    });
  });

  describe("meteringLimits", function () {
    it("returns GPU count, TDP and status", async function () {
      const { nft, assetId } = await loadFixture(mintedFixture);
      expect(await nft.meteringLimits(assetId)).to.deep.equal([8n, 700n, Status.Active]);
    });

    it("reads exactly one storage slot", async function () {
      const { nft, assetId } = await loadFixture(mintedFixture);
      const trace = await network.provider.send("debug_traceCall", [
        { to: await nft.getAddress(), data: nft.interface.encodeFunctionData("meteringLimits", [assetId]) },
        "latest",
        { disableStack: true, disableMemory: true },
      ]);
      const sloads = (trace.structLogs as { op: string }[]).filter((l) => l.op === "SLOAD");
      expect(sloads).to.have.length(1);
    });

    it("reverts ERC721NonexistentToken for an unknown id", async function () {
      const { nft } = await loadFixture(mintedFixture);
      await expect(nft.meteringLimits(4n)).to.be.revertedWithCustomError(nft, "ERC721NonexistentToken").withArgs(4n);
    });
  });

  describe("isLeasable", function () {
    it("is true for an Active asset without a user", async function () {
      const { nft, assetId } = await loadFixture(mintedFixture);
      expect(await nft.isLeasable(assetId)).to.equal(true);
    });

    it("is false for an unknown id, Maintenance and Retired", async function () {
      const { nft, registrar, assetId } = await loadFixture(mintedFixture);
      expect(await nft.isLeasable(2n)).to.equal(false);
      await nft.connect(registrar).setStatus(assetId, Status.Maintenance);
      expect(await nft.isLeasable(assetId)).to.equal(false);
      await nft.connect(registrar).setStatus(assetId, Status.Retired);
      expect(await nft.isLeasable(assetId)).to.equal(false);
    });

    it("is false one second before expires and true from expires on", async function () {
      const { nft, assetId, expires } = await loadFixture(leasedFixture);
      await time.increaseTo(expires - 1n);
      expect(await nft.isLeasable(assetId)).to.equal(false);
      await time.increaseTo(expires);
      expect(await nft.isLeasable(assetId)).to.equal(true);
    });
  });

  describe("isSerialsHashTaken", function () {
    it("is false for a hash never registered", async function () {
      const { nft } = await loadFixture(mintedFixture);
      expect(await nft.isSerialsHashTaken(serialsHash(["unknown"]))).to.equal(false);
    });
  });
});

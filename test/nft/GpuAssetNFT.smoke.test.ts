import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import { Status, deployedFixture, h100Spec, leasedFixture, mintedFixture, specTuple } from "./fixtures";

describe("GpuAssetNFT (smoke)", function () {
  it("mints with a spec the views return", async function () {
    const { nft, registrar, operator } = await loadFixture(deployedFixture);
    const spec = h100Spec("A");
    await expect(nft.connect(registrar).mint(operator.address, spec))
      .to.emit(nft, "Transfer")
      .withArgs(ethers.ZeroAddress, operator.address, 1n);
    expect(await nft.ownerOf(1n)).to.equal(operator.address);
    expect(await nft.specOf(1n)).to.deep.equal(specTuple(spec));
    expect(await nft.statusOf(1n)).to.equal(Status.Active);
    expect(await nft.meteringLimits(1n)).to.deep.equal([8n, 700n, Status.Active]);
    expect(await nft.isLeasable(1n)).to.equal(true);
  });

  it("lets only the lease manager set a user, which survives a transfer and ends at expires", async function () {
    const { nft, operator, lessee, buyer, assetId, expires, leaseManager } = await loadFixture(leasedFixture);
    await expect(nft.connect(operator).setUser(assetId, operator.address, expires))
      .to.be.revertedWithCustomError(nft, "AccessControlUnauthorizedAccount")
      .withArgs(operator.address, await nft.LEASE_MANAGER_ROLE());
    await nft.connect(operator).transferFrom(operator.address, buyer.address, assetId);
    expect(await nft.userOf(assetId)).to.equal(lessee.address);
    expect(await nft.isLeasable(assetId)).to.equal(false);
    await time.setNextBlockTimestamp(expires - 1n);
    await nft.connect(leaseManager).setUser(assetId, lessee.address, expires + 1n); // extend by 1 s, mines a block
    await time.increaseTo(expires + 1n);
    expect(await nft.userOf(assetId)).to.equal(ethers.ZeroAddress);
    expect(await nft.isLeasable(assetId)).to.equal(true);
  });

  it("renders tokenURI as base64 JSON", async function () {
    const { nft, assetId } = await loadFixture(mintedFixture);
    const uri = await nft.tokenURI(assetId);
    const prefix = "data:application/json;base64,";
    expect(uri.startsWith(prefix)).to.equal(true);
    const doc = JSON.parse(Buffer.from(uri.slice(prefix.length), "base64").toString("utf8"));
    expect(doc.name).to.equal("GPU server #1: 8 x NVIDIA H100 80GB HBM3");
    expect(doc.attributes).to.have.length(7);
  });

  it("pauses minting only", async function () {
    const { nft, pauser, registrar, operator } = await loadFixture(mintedFixture);
    await nft.connect(pauser).pause();
    await expect(nft.connect(registrar).mint(operator.address, h100Spec("B"))).to.be.revertedWithCustomError(
      nft,
      "EnforcedPause",
    );
  });
});

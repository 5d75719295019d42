import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import {
  MockBlocklistToken__factory,
  MockFalseReturnToken__factory,
  MockFeeOnTransferToken__factory,
  MockNoReturnToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
} from "../../typechain-types";

/** Each awkward token must show its own quirk, or the settlement suites that use it prove nothing. */
describe("test tokens (contracts/mocks)", function () {
  async function tokensFixture() {
    const [deployer, alice, bob] = await ethers.getSigners();
    const usdc = await new MockUSDC__factory(deployer).deploy();
    const noReturn = await new MockNoReturnToken__factory(deployer).deploy();
    const falseReturn = await new MockFalseReturnToken__factory(deployer).deploy();
    const feeToken = await new MockFeeOnTransferToken__factory(deployer).deploy(100); // 1 %
    const blocklist = await new MockBlocklistToken__factory(deployer).deploy();
    const reentrant = await new MockReentrantToken__factory(deployer).deploy();
    for (const t of [usdc, noReturn, falseReturn, feeToken, blocklist, reentrant]) {
      await t.mint(alice.address, 1_000_000n);
    }
    return { deployer, alice, bob, usdc, noReturn, falseReturn, feeToken, blocklist, reentrant };
  }

  describe("MockUSDC", function () {
    it("has 6 decimals", async function () {
      const { usdc } = await loadFixture(tokensFixture);
      expect(await usdc.decimals()).to.equal(6);
    });

    it("accepts an EIP-2612 permit signed by the owner", async function () {
      const { usdc, alice, bob } = await loadFixture(tokensFixture);
      const { chainId } = await ethers.provider.getNetwork();
      const deadline = 2n ** 40n;
      const signature = await alice.signTypedData(
        { name: "Mock USD Coin", version: "1", chainId, verifyingContract: await usdc.getAddress() },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: alice.address, spender: bob.address, value: 500n, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(signature);
      await expect(usdc.permit(alice.address, bob.address, 500n, deadline, v, r, s))
        .to.emit(usdc, "Approval")
        .withArgs(alice.address, bob.address, 500n);
      expect(await usdc.allowance(alice.address, bob.address)).to.equal(500n);
      expect(await usdc.nonces(alice.address)).to.equal(1n);
    });
  });

  describe("MockNoReturnToken", function () {
    it("returns no data from transfer", async function () {
      const { noReturn, alice, bob } = await loadFixture(tokensFixture);
      const data = noReturn.interface.encodeFunctionData("transfer", [bob.address, 10n]);
      const returned = await ethers.provider.call({ from: alice.address, to: await noReturn.getAddress(), data });
      expect(returned).to.equal("0x");
      await expect(noReturn.connect(alice).transfer(bob.address, 10n)).to.changeTokenBalances(
        noReturn,
        [alice, bob],
        [-10n, 10n],
      );
    });

    it("reverts a transfer beyond the balance", async function () {
      const { noReturn, bob, alice } = await loadFixture(tokensFixture);
      await expect(noReturn.connect(bob).transfer(alice.address, 1n)).to.be.revertedWithCustomError(
        noReturn,
        "NoReturnTokenFailed",
      );
    });

    it("refuses to change a non-zero allowance to another non-zero value, as USDT does", async function () {
      const { noReturn, alice, bob } = await loadFixture(tokensFixture);
      await noReturn.connect(alice).approve(bob.address, 5n);
      await expect(noReturn.connect(alice).approve(bob.address, 6n)).to.be.revertedWithCustomError(
        noReturn,
        "NoReturnTokenFailed",
      );
      await noReturn.connect(alice).approve(bob.address, 0n);
      await noReturn.connect(alice).approve(bob.address, 6n);
      expect(await noReturn.allowance(alice.address, bob.address)).to.equal(6n);
    });
  });

  describe("MockFalseReturnToken", function () {
    it("returns false and moves nothing when the balance is short", async function () {
      const { falseReturn, alice, bob } = await loadFixture(tokensFixture);
      expect(await falseReturn.connect(bob).transfer.staticCall(alice.address, 1n)).to.equal(false);
      await expect(falseReturn.connect(bob).transfer(alice.address, 1n)).to.changeTokenBalances(
        falseReturn,
        [alice, bob],
        [0n, 0n],
      );
    });

    it("returns false from transferFrom without allowance", async function () {
      const { falseReturn, alice, bob } = await loadFixture(tokensFixture);
      expect(await falseReturn.connect(bob).transferFrom.staticCall(alice.address, bob.address, 1n)).to.equal(false);
    });

    it("returns true and moves the amount when it can", async function () {
      const { falseReturn, alice, bob } = await loadFixture(tokensFixture);
      await falseReturn.connect(alice).approve(bob.address, 7n);
      expect(await falseReturn.connect(bob).transferFrom.staticCall(alice.address, bob.address, 7n)).to.equal(true);
      await expect(falseReturn.connect(bob).transferFrom(alice.address, bob.address, 7n)).to.changeTokenBalances(
        falseReturn,
        [alice, bob],
        [-7n, 7n],
      );
    });
  });

  describe("MockFeeOnTransferToken", function () {
    it("delivers the amount minus the fee and burns the fee", async function () {
      const { feeToken, alice, bob } = await loadFixture(tokensFixture);
      const supplyBefore = await feeToken.totalSupply();
      await expect(feeToken.connect(alice).transfer(bob.address, 10_000n)).to.changeTokenBalances(
        feeToken,
        [alice, bob],
        [-10_000n, 9_900n],
      );
      expect(await feeToken.totalSupply()).to.equal(supplyBefore - 100n);
    });
  });

  describe("MockBlocklistToken", function () {
    it("blocks a blocklisted sender and a blocklisted recipient, and nobody else", async function () {
      const { blocklist, alice, bob, deployer } = await loadFixture(tokensFixture);
      await expect(blocklist.setBlocklisted(bob.address, true))
        .to.emit(blocklist, "BlocklistUpdated")
        .withArgs(bob.address, true);
      await expect(blocklist.connect(alice).transfer(bob.address, 1n))
        .to.be.revertedWithCustomError(blocklist, "Blocklisted")
        .withArgs(bob.address);
      await blocklist.connect(alice).transfer(deployer.address, 1n);
      await blocklist.setBlocklisted(alice.address, true);
      await expect(blocklist.connect(alice).transfer(deployer.address, 1n))
        .to.be.revertedWithCustomError(blocklist, "Blocklisted")
        .withArgs(alice.address);
    });
  });

  describe("MockReentrantToken", function () {
    it("calls the armed target once during a transfer and records the outcome", async function () {
      const { reentrant, alice, bob, usdc } = await loadFixture(tokensFixture);
      // Re-enter a contract that will refuse: USDC.transfer from the token with no balance reverts.
      const data = usdc.interface.encodeFunctionData("transfer", [bob.address, 1n]);
      await reentrant.arm(await usdc.getAddress(), data);
      await expect(reentrant.connect(alice).transfer(bob.address, 5n)).to.emit(reentrant, "ReentryAttempted");
      expect(await reentrant.lastReentrySucceeded()).to.equal(false);
      expect(await reentrant.reentryTarget()).to.equal(ethers.ZeroAddress);
      // Disarmed: the next transfer calls nothing.
      await expect(reentrant.connect(alice).transfer(bob.address, 5n)).not.to.emit(reentrant, "ReentryAttempted");
    });
  });
});

import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import {
  MockBlocklistToken__factory,
  MockFalseReturnToken__factory,
  MockFeeOnTransferToken__factory,
  MockNoReturnToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
} from "../../typechain-types";
import {
  DAY,
  DISPUTE_WINDOW,
  EndReason,
  GPUS,
  HOUR,
  USDC,
  deployCore,
  expectSolvent,
  termsFor,
  type TestToken,
} from "./helpers";

const DEPOSIT = 500n * USDC;

/** Deploys each kind of token the escrow may meet. */
const TOKENS = {
  "USDC-like (permit, 6 decimals)": async () => new MockUSDC__factory((await ethers.getSigners())[0]).deploy(),
  "USDT-like (no return value)": async () => new MockNoReturnToken__factory((await ethers.getSigners())[0]).deploy(),
  "false-returning": async () => new MockFalseReturnToken__factory((await ethers.getSigners())[0]).deploy(),
  blocklisting: async () => new MockBlocklistToken__factory((await ethers.getSigners())[0]).deploy(),
  "re-entrant (transfer hook)": async () => new MockReentrantToken__factory((await ethers.getSigners())[0]).deploy(),
} as const;

/**
 * The same settlement behaviour on every token: deposit, settle, release, close, refund, withdraw,
 * with exact balances and the solvency invariant at the end.
 */
describe("SettlementEscrow with awkward tokens", function () {
  for (const [name, deployToken] of Object.entries(TOKENS)) {
    describe(name, function () {
      async function tokenFixture() {
        const core = await deployCore();
        const token = (await deployToken()) as unknown as TestToken;
        const t = await token.getAddress();
        await core.escrow.setTokenAllowed(t, true);
        await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
        await token.mint(core.lessee.address, 1_000n * USDC);
        await token.connect(core.lessee).approve(await core.escrow.getAddress(), 1_000n * USDC);
        return { ...core, token };
      }

      it("runs a whole lease: deposit, settle, release, close, withdraw", async function () {
        const { escrow, token, meters, lessee, provider, assetId } = await loadFixture(tokenFixture);
        const start = BigInt(await time.latest()) + 10n;
        await meters.report(start, 0n, 0n);
        await time.setNextBlockTimestamp(start);
        await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT)).to.changeTokenBalances(
          token,
          [lessee, escrow],
          [-DEPOSIT, DEPOSIT],
        );
        await meters.report(start + HOUR, 0n, GPUS * HOUR); // 16 USDC
        await escrow.settle(1n);
        await meters.report(start + DAY, 0n, 0n); // moves the chain to the lease end
        await expect(escrow.close(1n))
          .to.emit(escrow, "LeaseEnded")
          .withArgs(1n, EndReason.Expired, anyAddress(), DEPOSIT - 16n * USDC);
        await time.increase(DISPUTE_WINDOW);
        await escrow.release(1n);
        const t = await token.getAddress();
        await expectSolvent(escrow, token, [lessee.address, provider.address]);
        await expect(escrow.connect(provider).withdraw(t, provider.address)).to.changeTokenBalances(
          token,
          [escrow, provider],
          [-16n * USDC, 16n * USDC],
        );
        await expect(escrow.connect(lessee).withdraw(t, lessee.address)).to.changeTokenBalances(
          token,
          [escrow, lessee],
          [-(DEPOSIT - 16n * USDC), DEPOSIT - 16n * USDC],
        );
        expect(await token.balanceOf(await escrow.getAddress())).to.equal(0n);
      });

      it("reverts a deposit the lessee has not approved, leaving no lease", async function () {
        const { escrow, token, other, assetId } = await loadFixture(tokenFixture);
        await token.mint(other.address, DEPOSIT);
        await expect(escrow.connect(other).openLease(assetId, DAY, DEPOSIT)).to.be.reverted;
        expect(await escrow.leaseCount()).to.equal(0n);
        expect(await token.balanceOf(await escrow.getAddress())).to.equal(0n);
      });
    });
  }

  describe("false-returning token", function () {
    it("reverts SafeERC20FailedOperation when transferFrom returns false", async function () {
      const core = await loadFixture(deployCore);
      const token = await new MockFalseReturnToken__factory(core.admin).deploy();
      const t = await token.getAddress();
      await core.escrow.setTokenAllowed(t, true);
      await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
      await token.mint(core.lessee.address, DEPOSIT);
      await expect(core.escrow.connect(core.lessee).openLease(core.assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(core.escrow, "SafeERC20FailedOperation")
        .withArgs(t);
    });
  });

  describe("fee-on-transfer token", function () {
    async function feeFixture() {
      const core = await deployCore();
      const token = await new MockFeeOnTransferToken__factory(core.admin).deploy(100); // 1 %
      const t = await token.getAddress();
      await core.escrow.setTokenAllowed(t, true);
      await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t));
      await token.mint(core.lessee.address, 1_000n * USDC);
      await token.connect(core.lessee).approve(await core.escrow.getAddress(), ethers.MaxUint256);
      return { ...core, token };
    }

    it("refuses the deposit with TransferAmountMismatch instead of crediting what did not arrive", async function () {
      const { escrow, token, lessee, assetId } = await loadFixture(feeFixture);
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(escrow, "TransferAmountMismatch")
        .withArgs(await token.getAddress(), DEPOSIT, (DEPOSIT * 99n) / 100n);
      expect(await escrow.leaseCount()).to.equal(0n);
      expect(await token.balanceOf(lessee.address)).to.equal(1_000n * USDC);
    });
  });

  describe("blocklisting token", function () {
    it("lets a blocklisted payee block only itself: it withdraws elsewhere, the lessee is unaffected", async function () {
      const core = await loadFixture(deployCore);
      const token = await new MockBlocklistToken__factory(core.admin).deploy();
      const t = await token.getAddress();
      const { escrow, provider, lessee, other, meters, assetId } = core;
      await escrow.setTokenAllowed(t, true);
      await escrow.connect(provider).setLeaseTerms(assetId, termsFor(t));
      await token.mint(lessee.address, DEPOSIT);
      await token.connect(lessee).approve(await escrow.getAddress(), DEPOSIT);
      const start = BigInt(await time.latest()) + 10n;
      await meters.report(start, 0n, 0n);
      await time.setNextBlockTimestamp(start);
      await escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT);
      await meters.report(start + HOUR, 0n, GPUS * HOUR);
      await escrow.connect(provider).terminateByProvider(1n);
      await time.increase(DISPUTE_WINDOW);
      await escrow.release(1n);
      await token.setBlocklisted(provider.address, true);
      await expect(escrow.connect(provider).withdraw(t, provider.address))
        .to.be.revertedWithCustomError(token, "Blocklisted")
        .withArgs(provider.address);
      expect(await escrow.withdrawable(provider.address, t)).to.equal(16n * USDC);
      await expect(escrow.connect(lessee).withdraw(t, lessee.address)).to.changeTokenBalances(
        token,
        [lessee],
        [DEPOSIT - 16n * USDC],
      );
      await expect(escrow.connect(provider).withdraw(t, other.address)).to.changeTokenBalances(
        token,
        [other],
        [16n * USDC],
      );
    });
  });

  describe("re-entrant token", function () {
    it("blocks re-entry from the token's transfer hook with ReentrancyGuardReentrantCall", async function () {
      const core = await loadFixture(deployCore);
      const token = await new MockReentrantToken__factory(core.admin).deploy();
      const t = await token.getAddress();
      const { escrow, provider, lessee, assetId } = core;
      await escrow.setTokenAllowed(t, true);
      await escrow.connect(provider).setLeaseTerms(assetId, termsFor(t));
      await token.mint(lessee.address, DEPOSIT);
      await token.connect(lessee).approve(await escrow.getAddress(), DEPOSIT);
      // During the deposit, the hook tries to withdraw and to open a second lease.
      await token.arm(await escrow.getAddress(), escrow.interface.encodeFunctionData("withdraw", [t, lessee.address]));
      await expect(escrow.connect(lessee).openLease(assetId, DAY, DEPOSIT)).to.emit(token, "ReentryAttempted");
      expect(await token.lastReentrySucceeded()).to.equal(false);
      expect(await token.lastReentryReturnData()).to.equal(
        escrow.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
      );
      expect((await escrow.leaseOf(1n)).balance).to.equal(DEPOSIT);
      await expectSolvent(escrow, token as unknown as TestToken, [lessee.address]);
    });
  });
});

function anyAddress() {
  return (v: unknown) => typeof v === "string" && v.startsWith("0x");
}

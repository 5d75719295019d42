import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture, time } from "@nomicfoundation/hardhat-network-helpers";
import type { BaseContract } from "ethers";
import {
  MockBlocklistToken__factory,
  MockFalseReturnToken__factory,
  MockFeeOnTransferToken__factory,
  MockNoReturnToken__factory,
  MockReentrantToken__factory,
  MockUSDC__factory,
  type MockBlocklistToken,
  type MockReentrantToken,
  type MockUSDC,
} from "../../typechain-types";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import {
  DAY,
  EndReason,
  HOUR,
  USDC,
  at,
  deployCore,
  escrowState,
  expectSolvent,
  signPermit,
  termsFor,
  type TestToken,
} from "./helpers";
import { TERMS_OVERRIDES } from "./fixtures";

const DEPOSIT = 500n * USDC;
/** The bill of the suite's lease: 8 GPUs available for one hour at 2 USDC, none busy, then idle to the end. */
const FIRST_HOUR = 16n * USDC;

/** How a token refuses a `transferFrom` the lessee never approved, and who raises it. */
interface Refusal {
  from: "token" | "escrow";
  error: string;
  args: (token: string, escrow: string) => unknown[];
}

interface TokenKind {
  deploy: () => Promise<BaseContract>;
  refusal: Refusal;
  hasPermit: boolean;
}

const deployer = async () => (await ethers.getSigners())[0];
const ozAllowance: Refusal = { from: "token", error: "ERC20InsufficientAllowance", args: (_t, e) => [e, 0n, DEPOSIT] };

/** Every token the escrow should handle exactly, and how each refuses an unapproved pull. */
const TOKENS: Record<string, TokenKind> = {
  "USDC-like (6 decimals, EIP-2612 permit)": {
    deploy: async () => new MockUSDC__factory(await deployer()).deploy(),
    refusal: ozAllowance,
    hasPermit: true,
  },
  "USDT-like (no return values)": {
    deploy: async () => new MockNoReturnToken__factory(await deployer()).deploy(),
    refusal: { from: "token", error: "NoReturnTokenFailed", args: () => [] },
    hasPermit: false,
  },
  "false-returning (returns false instead of reverting)": {
    deploy: async () => new MockFalseReturnToken__factory(await deployer()).deploy(),
    refusal: { from: "escrow", error: "SafeERC20FailedOperation", args: (t) => [t] },
    hasPermit: false,
  },
  "blocklisting (USDC-style issuer blocklist)": {
    deploy: async () => new MockBlocklistToken__factory(await deployer()).deploy(),
    refusal: ozAllowance,
    hasPermit: false,
  },
  "re-entrant (transfer hook calling back)": {
    deploy: async () => new MockReentrantToken__factory(await deployer()).deploy(),
    refusal: ozAllowance,
    hasPermit: false,
  },
};

/** Core deployment with `token` allowlisted, terms in it, the lessee funded (1,000) and `other` funded (1,000). */
async function withToken(token: TestToken) {
  const core = await deployCore();
  const t = await token.getAddress();
  await core.escrow.setTokenAllowed(t, true);
  await core.escrow.connect(core.provider).setLeaseTerms(core.assetId, termsFor(t, TERMS_OVERRIDES));
  for (const a of [core.lessee, core.other]) await token.mint(a.address, 1_000n * USDC);
  const accounts = [core.lessee.address, core.provider.address, core.other.address];
  return { ...core, token, t, accounts, escrowAddress: await core.escrow.getAddress() };
}

/** A 1-day lease on `f`'s asset, opened at `start` with the first reading stamped there. */
async function openDay(f: Awaited<ReturnType<typeof withToken>>, start: bigint, deposit = DEPOSIT) {
  await f.meters.postAt(start, {}, start - 10n);
  await at(start);
  return f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, deposit);
}

/**
 * The same settlement behaviour in every token: deposit (approve or permit), top-up, settle, close
 * with refund, withdrawals, with exact token movements and the solvency invariant; and the refused
 * deposit without an approval, which changes nothing.
 */
describe("SettlementEscrow with awkward tokens", function () {
  for (const [name, kind] of Object.entries(TOKENS)) {
    describe(name, function () {
      async function tokenFixture() {
        const f = await withToken((await kind.deploy()) as unknown as TestToken);
        await f.token.connect(f.lessee).approve(f.escrowAddress, DEPOSIT);
        await f.token.connect(f.other).approve(f.escrowAddress, DEPOSIT);
        return f;
      }

      it("runs a whole lease: deposit, top-up by a third party, settle, close with refund, both withdraw, escrow empty", async function () {
        const f = await loadFixture(tokenFixture);
        const { escrow, token, t, lessee, provider, other, meters, keeper } = f;
        const start = BigInt(await time.latest()) + 100n;
        await expect(openDay(f, start)).to.changeTokenBalances(token, [lessee, escrow], [-DEPOSIT, DEPOSIT]);
        await expect(escrow.connect(other).topUp(1n, 100n * USDC)).to.changeTokenBalances(
          token,
          [other, escrow],
          [-100n * USDC, 100n * USDC],
        );
        await meters.useAt(start + HOUR, 10_000n, 0n); // 8 GPU-hours available: 16
        await at(start + HOUR + DAY);
        await expect(keeper.settle(1n, other, start + HOUR + DAY))
          .to.emit(escrow, "LeaseSettled")
          .withArgs(1n, provider.address, start + HOUR, anyValue, FIRST_HOUR);
        await meters.useAt(start + DAY + DAY, 0n, 0n); // nothing available after the first hour
        await at(start + 3n * DAY);
        const refund = DEPOSIT + 100n * USDC - FIRST_HOUR;
        await expect(keeper.close(1n, other, start + 3n * DAY))
          .to.emit(escrow, "LeaseClosed")
          .withArgs(1n, EndReason.Expired, other.address, true, refund);
        await expectSolvent(escrow, token, f.accounts);
        await expect(escrow.connect(provider).withdraw(t, provider.address)).to.changeTokenBalances(
          token,
          [escrow, provider],
          [-FIRST_HOUR, FIRST_HOUR],
        );
        await expect(escrow.connect(lessee).withdraw(t, lessee.address)).to.changeTokenBalances(
          token,
          [escrow, lessee],
          [-refund, refund],
        );
        expect(await token.balanceOf(f.escrowAddress)).to.equal(0n);
        await expectSolvent(escrow, token, f.accounts);
      });

      it("refuses a deposit the lessee has not approved, changing nothing", async function () {
        const f = await loadFixture(tokenFixture);
        await f.token.connect(f.lessee).approve(f.escrowAddress, 0n);
        const before = await escrowState(f.escrow, f.token, f.accounts);
        const open = f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT);
        const from = kind.refusal.from === "token" ? f.token : f.escrow;
        await expect(open)
          .to.be.revertedWithCustomError(from, kind.refusal.error)
          .withArgs(...kind.refusal.args(f.t, f.escrowAddress));
        expect(await escrowState(f.escrow, f.token, f.accounts)).to.deep.equal(before);
      });

      if (kind.hasPermit) {
        it("opens with a permit and no approval", async function () {
          const f = await loadFixture(tokenFixture);
          await f.token.connect(f.lessee).approve(f.escrowAddress, 0n);
          const p = await signPermit(f.token as unknown as MockUSDC, f.lessee, f.escrowAddress, DEPOSIT, 2n ** 40n);
          await expect(
            f.escrow.connect(f.lessee).openLeaseWithPermit(f.assetId, 1, DAY, DEPOSIT, p.deadline, p.v, p.r, p.s),
          ).to.changeTokenBalances(f.token, [f.lessee, f.escrow], [-DEPOSIT, DEPOSIT]);
        });
      } else {
        it("opens through openLeaseWithPermit on an approval (the token has no permit), and reverts PermitFailed without one", async function () {
          const f = await loadFixture(tokenFixture);
          const none = { deadline: 2n ** 40n, v: 27, r: ethers.ZeroHash, s: ethers.ZeroHash };
          await expect(
            f.escrow
              .connect(f.lessee)
              .openLeaseWithPermit(f.assetId, 1, DAY, DEPOSIT, none.deadline, none.v, none.r, none.s),
          ).to.changeTokenBalances(f.token, [f.lessee, f.escrow], [-DEPOSIT, DEPOSIT]);
          await f.escrow.connect(f.provider).terminateByProvider(1n);
          await f.token.connect(f.other).approve(f.escrowAddress, 0n);
          await expect(
            f.escrow
              .connect(f.other)
              .openLeaseWithPermit(f.assetId, 1, DAY, DEPOSIT, none.deadline, none.v, none.r, none.s),
          )
            .to.be.revertedWithCustomError(f.escrow, "PermitFailed")
            .withArgs(f.t, 0n, DEPOSIT);
          expect(await f.escrow.leaseCount()).to.equal(1n);
        });
      }
    });
  }

  describe("fee-on-transfer token (1 %)", function () {
    async function feeFixture() {
      const f = await withToken(
        (await new MockFeeOnTransferToken__factory(await deployer()).deploy(100)) as unknown as TestToken,
      );
      await f.token.connect(f.lessee).approve(f.escrowAddress, ethers.MaxUint256);
      return f;
    }

    it("refuses the deposit with TransferAmountMismatch instead of crediting what did not arrive, changing nothing", async function () {
      const f = await loadFixture(feeFixture);
      const before = await escrowState(f.escrow, f.token, f.accounts);
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(f.escrow, "TransferAmountMismatch")
        .withArgs(f.t, DEPOSIT, (DEPOSIT * 99n) / 100n);
      const none = { deadline: 2n ** 40n, v: 27, r: ethers.ZeroHash, s: ethers.ZeroHash };
      await expect(
        f.escrow
          .connect(f.lessee)
          .openLeaseWithPermit(f.assetId, 1, DAY, DEPOSIT, none.deadline, none.v, none.r, none.s),
      )
        .to.be.revertedWithCustomError(f.escrow, "TransferAmountMismatch")
        .withArgs(f.t, DEPOSIT, (DEPOSIT * 99n) / 100n);
      expect(await escrowState(f.escrow, f.token, f.accounts)).to.deep.equal(before);
    });
  });

  describe("blocklisting token", function () {
    async function blockFixture() {
      const f = await withToken(
        (await new MockBlocklistToken__factory(await deployer()).deploy()) as unknown as TestToken,
      );
      await f.token.connect(f.lessee).approve(f.escrowAddress, ethers.MaxUint256);
      const start = BigInt(await time.latest()) + 100n;
      await openDay(f, start);
      await f.meters.useAt(start + HOUR, 10_000n, 0n, start + HOUR - 10n);
      await at(start + HOUR);
      await f.escrow.connect(f.provider).terminateByProvider(1n);
      await at(start + HOUR + DAY);
      await f.keeper.close(1n, f.other, start + HOUR + DAY);
      return { ...f, token: f.token as unknown as MockBlocklistToken & TestToken };
    }

    it("a blocklisted payee blocks only its own withdrawal to itself: it withdraws elsewhere, the lessee is unaffected", async function () {
      const f = await loadFixture(blockFixture);
      await f.token.setBlocklisted(f.provider.address, true);
      await expect(f.escrow.connect(f.provider).withdraw(f.t, f.provider.address))
        .to.be.revertedWithCustomError(f.token, "Blocklisted")
        .withArgs(f.provider.address);
      expect(await f.escrow.withdrawable(f.provider.address, f.t)).to.equal(FIRST_HOUR);
      await expect(f.escrow.connect(f.lessee).withdraw(f.t, f.lessee.address)).to.changeTokenBalances(
        f.token,
        [f.lessee],
        [DEPOSIT - FIRST_HOUR],
      );
      await expect(f.escrow.connect(f.provider).withdraw(f.t, f.other.address)).to.changeTokenBalances(
        f.token,
        [f.other],
        [FIRST_HOUR],
      );
      expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);
    });

    it("a blocklisted lessee is still refunded and withdraws to another address; it cannot open a new lease", async function () {
      const f = await loadFixture(blockFixture);
      await f.token.setBlocklisted(f.lessee.address, true);
      await expect(f.escrow.connect(f.lessee).withdraw(f.t, f.other.address)).to.changeTokenBalances(
        f.token,
        [f.other],
        [DEPOSIT - FIRST_HOUR],
      );
      await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT))
        .to.be.revertedWithCustomError(f.token, "Blocklisted")
        .withArgs(f.lessee.address);
      await expect(f.escrow.connect(f.provider).withdraw(f.t, f.provider.address)).to.changeTokenBalances(
        f.token,
        [f.provider],
        [FIRST_HOUR],
      );
    });
  });

  describe("re-entrant token", function () {
    async function reentrantFixture() {
      const f = await withToken(
        (await new MockReentrantToken__factory(await deployer()).deploy()) as unknown as TestToken,
      );
      await f.token.connect(f.lessee).approve(f.escrowAddress, ethers.MaxUint256);
      await f.token.connect(f.other).approve(f.escrowAddress, ethers.MaxUint256);
      return { ...f, hook: f.token as unknown as MockReentrantToken };
    }

    const guarded = (
      t: string,
      escrow: { interface: { encodeFunctionData(name: string, args: unknown[]): string } },
    ) => ({
      withdraw: escrow.interface.encodeFunctionData("withdraw", [t, ethers.ZeroAddress.replace(/0$/, "1")]),
      topUp: escrow.interface.encodeFunctionData("topUp", [1n, 1n]),
      openLease: escrow.interface.encodeFunctionData("openLease", [1n, 1, DAY, DEPOSIT]),
      endByLessee: escrow.interface.encodeFunctionData("endByLessee", [1n]),
      terminateByProvider: escrow.interface.encodeFunctionData("terminateByProvider", [1n]),
      closeUnderfunded: escrow.interface.encodeFunctionData("closeUnderfunded", [1n]),
      resolveDispute: escrow.interface.encodeFunctionData("resolveDispute", [1n, 0n]),
      resolveDisputeByTimeout: escrow.interface.encodeFunctionData("resolveDisputeByTimeout", [1n]),
    });

    for (const fn of [
      "withdraw",
      "topUp",
      "openLease",
      "endByLessee",
      "terminateByProvider",
      "closeUnderfunded",
      "resolveDispute",
      "resolveDisputeByTimeout",
    ]) {
      it(`blocks a call back into ${fn} from the deposit's transfer hook with ReentrancyGuardReentrantCall`, async function () {
        const f = await loadFixture(reentrantFixture);
        const data = guarded(f.t, f.escrow)[fn as keyof ReturnType<typeof guarded>];
        // The arbiter's call is role-checked first: give the token the role, so only the guard stands in the way.
        if (fn === "resolveDispute") await f.escrow.grantRole(await f.escrow.ARBITER_ROLE(), f.t);
        await f.hook.arm(f.escrowAddress, data);
        await expect(f.escrow.connect(f.lessee).openLease(f.assetId, 1, DAY, DEPOSIT)).to.emit(
          f.hook,
          "ReentryAttempted",
        );
        expect(await f.hook.lastReentrySucceeded()).to.equal(false);
        expect(await f.hook.lastReentryReturnData()).to.equal(
          f.escrow.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
        );
        const l = await f.escrow.leaseOf(1n);
        expect([l.balance, l.deposited, l.endReason]).to.deep.equal([DEPOSIT, DEPOSIT, BigInt(EndReason.None)]);
        expect(await f.escrow.leaseCount()).to.equal(1n);
        await expectSolvent(f.escrow, f.token, f.accounts);
      });
    }

    it("blocks a call back into withdraw from the payout's transfer hook; the payout is exact", async function () {
      const f = await loadFixture(reentrantFixture);
      const start = BigInt(await time.latest()) + 100n;
      await openDay(f, start);
      await f.escrow.connect(f.provider).terminateByProvider(1n);
      await time.increase(8n * DAY);
      await f.escrow.close(1n, ABSENT_BOUNDARY, ABSENT_BOUNDARY);
      await f.hook.arm(f.escrowAddress, f.escrow.interface.encodeFunctionData("withdraw", [f.t, f.lessee.address]));
      await expect(f.escrow.connect(f.lessee).withdraw(f.t, f.lessee.address)).to.changeTokenBalances(
        f.token,
        [f.escrow, f.lessee],
        [-DEPOSIT, DEPOSIT],
      );
      expect(await f.hook.lastReentrySucceeded()).to.equal(false);
      expect(await f.hook.lastReentryReturnData()).to.equal(
        f.escrow.interface.encodeErrorResult("ReentrancyGuardReentrantCall", []),
      );
      expect(await f.token.balanceOf(f.escrowAddress)).to.equal(0n);
    });
  });
});

function anyValue() {
  return true;
}

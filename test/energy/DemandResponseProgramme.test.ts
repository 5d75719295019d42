import { expect } from "chai";
import { ethers } from "hardhat";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { DemandResponseProgramme__factory, MockFeeOnTransferToken__factory } from "../../typechain-types";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import { EventStatus, OutcomeStatus, reductionProofs } from "../../src/demandResponse";
import {
  BaselineRule,
  COMMITTED_J,
  DAY,
  FULL,
  HOUR,
  IDLE,
  MAX_CREDIT,
  MINUTE,
  RATE_PER_KWH,
  USDC,
  createdProgramme,
  deployProgramme,
  eventParams,
  nextGridTime,
  prove,
  storedEvent,
  termsFor,
  time,
} from "./helpers";

const FUNDS = 100n * USDC;
const ASSETS = [1n, 2n];

/** A funded programme with assets 1 and 2 enrolled; both fed on the 15-minute grid at full load for 3 h; a lease on #1. */
async function feeding() {
  const f = await createdProgramme(await deployProgramme(), FUNDS, ASSETS);
  const t0 = await nextGridTime();
  await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
  await f.escrow.connect(f.provider).setLeaseTerms(1n, termsFor(await f.usdc.getAddress()));
  await time.setNextBlockTimestamp(t0 + 10n);
  await f.escrow.connect(f.lessee).openLease(1n, 1, DAY, 1_000n * USDC);
  await f.feeder.feed(t0 + 3n * HOUR, ASSETS, () => FULL);
  return { ...f, t0 };
}

/** `feeding` + an event announced 7 minutes past hour 3 for [notice + 30 min, + 1 h]; baseline hours 1–3. */
async function announced() {
  const f = await feeding();
  const notice = f.t0 + 3n * HOUR + 7n * MINUTE;
  const start = notice + 30n * MINUTE;
  const end = start + HOUR;
  await time.setNextBlockTimestamp(notice);
  await f.programme.connect(f.sponsor).announce(1, eventParams(notice, start, end));
  return { ...f, notice, start, end };
}

/** `announced` + fed through the event (#1 idle inside it, #2 full) to 15 minutes after its end; #1's lessee checked in. */
async function ended() {
  const f = await announced();
  const loadAt = (t: bigint, a: bigint) => (a === 1n && t > f.start && t <= f.end ? IDLE : FULL);
  await f.feeder.feed(f.start, ASSETS, loadAt, [f.start]);
  await time.setNextBlockTimestamp(f.start + 60n);
  await f.programme.connect(f.other).checkIn(1, 1, 1n);
  await f.feeder.feed(f.end + 15n * MINUTE, ASSETS, loadAt, [f.end]);
  return f;
}

/** `ended` + #1 proven (credited) and #2 proven (no reduction). */
async function proven() {
  const f = await ended();
  await prove(f.programme, f.rig, 1, 1, 1n, f.other);
  await prove(f.programme, f.rig, 1, 1, 2n, f.other);
  return f;
}

describe("DemandResponseProgramme", function () {
  describe("constructor", function () {
    it("reverts ZeroAddress for a zero admin or oracle", async function () {
      const { admin, oracle, programme } = await loadFixture(deployProgramme);
      const factory = new DemandResponseProgramme__factory(admin);
      await expect(factory.deploy(ethers.ZeroAddress, await oracle.getAddress())).to.be.revertedWithCustomError(
        programme,
        "ZeroAddress",
      );
      await expect(factory.deploy(admin.address, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        programme,
        "ZeroAddress",
      );
    });

    it("reads the NFT from the oracle and gives the admin the admin role only", async function () {
      const { admin, oracle, nft, programme } = await loadFixture(deployProgramme);
      expect(await programme.oracle()).to.equal(await oracle.getAddress());
      expect(await programme.nft()).to.equal(await nft.getAddress());
      expect(await programme.hasRole(await programme.DEFAULT_ADMIN_ROLE(), admin.address)).to.equal(true);
      expect(await programme.MIN_NOTICE_SECONDS()).to.equal(600n);
      expect(await programme.CLAIM_WINDOW_SECONDS()).to.equal(30n * DAY);
      expect(await programme.MAX_MEMBERS()).to.equal(255n);
    });
  });

  describe("createProgramme", function () {
    it("creates programmes numbered from 1 for the sponsor", async function () {
      const { programme, sponsor, usdc } = await loadFixture(deployProgramme);
      const token = await usdc.getAddress();
      await expect(programme.connect(sponsor).createProgramme(token))
        .to.emit(programme, "ProgrammeCreated")
        .withArgs(1, sponsor.address, token);
      await programme.connect(sponsor).createProgramme(token);
      expect(await programme.programmeCount()).to.equal(2n);
      const p = await programme.programmeOf(1);
      expect([p.sponsor, p.token, p.eventCount, p.activeMembers, p.available]).to.deep.equal([
        sponsor.address,
        token,
        0n,
        0n,
        0n,
      ]);
    });

    it("reverts for a caller without the sponsor role, a zero token, and while paused", async function () {
      const { programme, sponsor, other, usdc, admin } = await loadFixture(deployProgramme);
      const token = await usdc.getAddress();
      await expect(programme.connect(other).createProgramme(token))
        .to.be.revertedWithCustomError(programme, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await programme.SPONSOR_ROLE());
      await expect(programme.connect(sponsor).createProgramme(ethers.ZeroAddress)).to.be.revertedWithCustomError(
        programme,
        "ZeroAddress",
      );
      await programme.connect(admin).pause();
      await expect(programme.connect(sponsor).createProgramme(token)).to.be.revertedWithCustomError(
        programme,
        "EnforcedPause",
      );
      expect(await programme.programmeCount()).to.equal(0n);
    });
  });

  describe("deposit", function () {
    it("pulls the amount into the unreserved funds (anyone may pay)", async function () {
      const f = await loadFixture(deployProgramme);
      await createdProgramme(f, 0n, []);
      await f.usdc.connect(f.lessee).approve(await f.programme.getAddress(), 5n * USDC);
      const tx = f.programme.connect(f.lessee).deposit(1, 5n * USDC);
      await expect(tx)
        .to.emit(f.programme, "ProgrammeFunded")
        .withArgs(1, f.lessee.address, 5n * USDC);
      await expect(tx).to.changeTokenBalances(f.usdc, [f.lessee, f.programme], [-5n * USDC, 5n * USDC]);
      expect((await f.programme.programmeOf(1)).available).to.equal(5n * USDC);
    });

    it("reverts UnknownProgramme, ZeroAmount, EnforcedPause and above 96 bits, leaving the funds unchanged", async function () {
      const f = await loadFixture(deployProgramme);
      await createdProgramme(f, 0n, []);
      const { programme, sponsor, admin } = f;
      await expect(programme.connect(sponsor).deposit(2, 1n))
        .to.be.revertedWithCustomError(programme, "UnknownProgramme")
        .withArgs(2);
      await expect(programme.connect(sponsor).deposit(1, 0n)).to.be.revertedWithCustomError(programme, "ZeroAmount");
      await expect(programme.connect(sponsor).deposit(1, 2n ** 96n))
        .to.be.revertedWithCustomError(programme, "SafeCastOverflowedUintDowncast")
        .withArgs(96, 2n ** 96n);
      await programme.connect(admin).pause();
      await expect(programme.connect(sponsor).deposit(1, 1n)).to.be.revertedWithCustomError(programme, "EnforcedPause");
      expect((await programme.programmeOf(1)).available).to.equal(0n);
    });

    it("refuses a fee-on-transfer token (TransferAmountMismatch)", async function () {
      const { programme, sponsor, admin } = await loadFixture(deployProgramme);
      const fot = await new MockFeeOnTransferToken__factory(admin).deploy(100);
      await fot.mint(sponsor.address, 1_000n * USDC);
      await fot.connect(sponsor).approve(await programme.getAddress(), ethers.MaxUint256);
      await programme.connect(sponsor).createProgramme(await fot.getAddress());
      await expect(programme.connect(sponsor).deposit(1, 100n * USDC)).to.be.revertedWithCustomError(
        programme,
        "TransferAmountMismatch",
      );
    });
  });

  describe("withdrawFunds", function () {
    it("pays the sponsor's unreserved funds, and only those", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, usdc } = f;
      const available = FUNDS - 2n * MAX_CREDIT;
      await expect(programme.connect(sponsor).withdrawFunds(1, available + 1n, sponsor.address))
        .to.be.revertedWithCustomError(programme, "InsufficientFunds")
        .withArgs(1, available + 1n, available);
      const tx = programme.connect(sponsor).withdrawFunds(1, available, sponsor.address);
      await expect(tx).to.emit(programme, "FundsWithdrawn").withArgs(1, sponsor.address, available);
      await expect(tx).to.changeTokenBalances(usdc, [programme, sponsor], [-available, available]);
      expect((await programme.programmeOf(1)).available).to.equal(0n);
    });

    it("reverts NotSponsor, ZeroAddress and ZeroAmount, and works while paused", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor, other, admin } = f;
      await expect(programme.connect(other).withdrawFunds(1, 1n, other.address))
        .to.be.revertedWithCustomError(programme, "NotSponsor")
        .withArgs(1, other.address);
      await expect(programme.connect(sponsor).withdrawFunds(1, 1n, ethers.ZeroAddress)).to.be.revertedWithCustomError(
        programme,
        "ZeroAddress",
      );
      await expect(programme.connect(sponsor).withdrawFunds(1, 0n, sponsor.address)).to.be.revertedWithCustomError(
        programme,
        "ZeroAmount",
      );
      await programme.connect(admin).pause();
      await expect(programme.connect(sponsor).withdrawFunds(1, 1n, sponsor.address)).to.emit(
        programme,
        "FundsWithdrawn",
      );
    });
  });

  describe("enroll and removeMember", function () {
    it("enrols an asset for the events announced from now on, and removes it for later ones", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, nft, provider } = f;
      await nft.mint(provider.address, {
        gpuModel: "NVIDIA H100 80GB HBM3",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id("serials-3"),
        vramMiBPerGpu: 81_559,
        gpuCount: 8,
        tdpWattsPerGpu: 700,
      });
      await expect(programme.connect(sponsor).enroll(1, 3n)).to.emit(programme, "AssetEnrolled").withArgs(1, 3n, 2);
      expect(await programme.isCalled(1, 1, 3n)).to.equal(false);
      expect(await programme.isCalled(1, 2, 3n)).to.equal(true);
      await expect(programme.connect(sponsor).removeMember(1, 1n))
        .to.emit(programme, "AssetRemoved")
        .withArgs(1, 1n, 2);
      expect(await programme.isCalled(1, 1, 1n)).to.equal(true);
      expect(await programme.isCalled(1, 2, 1n)).to.equal(false);
      expect((await programme.programmeOf(1)).activeMembers).to.equal(2n);
      expect(await programme.memberOf(1, 1n)).to.deep.equal([1n, 2n, 0n]);
    });

    it("reverts AlreadyEnrolled (also after a removal), NotEnrolled, AssetNotMeterable, a missing NFT, NotSponsor, the role and pause", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor, other, admin, nft } = f;
      await expect(programme.connect(sponsor).enroll(1, 1n))
        .to.be.revertedWithCustomError(programme, "AlreadyEnrolled")
        .withArgs(1, 1n);
      await programme.connect(sponsor).removeMember(1, 1n);
      await expect(programme.connect(sponsor).enroll(1, 1n))
        .to.be.revertedWithCustomError(programme, "AlreadyEnrolled")
        .withArgs(1, 1n);
      await expect(programme.connect(sponsor).removeMember(1, 1n))
        .to.be.revertedWithCustomError(programme, "NotEnrolled")
        .withArgs(1, 1n);
      await expect(programme.connect(sponsor).enroll(1, 2n ** 32n))
        .to.be.revertedWithCustomError(programme, "AssetNotMeterable")
        .withArgs(2n ** 32n);
      await expect(programme.connect(sponsor).enroll(1, 99n))
        .to.be.revertedWithCustomError(nft, "ERC721NonexistentToken")
        .withArgs(99n);
      await expect(programme.connect(other).removeMember(1, 2n))
        .to.be.revertedWithCustomError(programme, "NotSponsor")
        .withArgs(1, other.address);
      await expect(programme.connect(other).enroll(1, 2n)).to.be.revertedWithCustomError(
        programme,
        "AccessControlUnauthorizedAccount",
      );
      await programme.connect(admin).pause();
      await expect(programme.connect(sponsor).enroll(1, 2n)).to.be.revertedWithCustomError(programme, "EnforcedPause");
      expect((await programme.programmeOf(1)).activeMembers).to.equal(1n);
    });

    it("reverts TooManyMembers past 255 enrolled assets", async function () {
      this.timeout(600_000);
      const f = await loadFixture(deployProgramme);
      await createdProgramme(f, 0n, []);
      const { programme, sponsor, nft, provider } = f;
      for (let id = 3; id <= 256; id++) {
        await nft.mint(provider.address, {
          gpuModel: "NVIDIA H100 80GB HBM3",
          datacenter: "eu-west-fra2",
          serialsHash: ethers.id(`serials-${id}`),
          vramMiBPerGpu: 81_559,
          gpuCount: 8,
          tdpWattsPerGpu: 700,
        });
      }
      for (let id = 1; id <= 255; id++) await programme.connect(sponsor).enroll(1, BigInt(id));
      await expect(programme.connect(sponsor).enroll(1, 256n))
        .to.be.revertedWithCustomError(programme, "TooManyMembers")
        .withArgs(1, 255);
    });
  });

  describe("setLesseeShare", function () {
    it("lets the owner or an approved operator set the share, and records it", async function () {
      const { programme, provider, operator, nft } = await loadFixture(feeding);
      await expect(programme.connect(provider).setLesseeShare(1, 1n, 2_500))
        .to.emit(programme, "LesseeShareSet")
        .withArgs(1, 1n, 2_500);
      await nft.connect(provider).setApprovalForAll(operator.address, true);
      await programme.connect(operator).setLesseeShare(1, 1n, 10_000);
      expect((await programme.memberOf(1, 1n)).lesseeShareBps).to.equal(10_000n);
    });

    it("reverts NotAssetOperator, NotEnrolled, InvalidLesseeShare, LesseeShareUnchanged and UnknownProgramme", async function () {
      const { programme, provider, other, sponsor } = await loadFixture(feeding);
      await expect(programme.connect(other).setLesseeShare(1, 1n, 1))
        .to.be.revertedWithCustomError(programme, "NotAssetOperator")
        .withArgs(1n, other.address);
      await expect(programme.connect(provider).setLesseeShare(1, 1n, 10_001))
        .to.be.revertedWithCustomError(programme, "InvalidLesseeShare")
        .withArgs(10_001);
      await expect(programme.connect(provider).setLesseeShare(1, 1n, 0))
        .to.be.revertedWithCustomError(programme, "LesseeShareUnchanged")
        .withArgs(1, 1n, 0);
      await expect(programme.connect(provider).setLesseeShare(2, 1n, 1))
        .to.be.revertedWithCustomError(programme, "UnknownProgramme")
        .withArgs(2);
      await programme.connect(sponsor).removeMember(1, 1n);
      await expect(programme.connect(provider).setLesseeShare(1, 1n, 1))
        .to.be.revertedWithCustomError(programme, "NotEnrolled")
        .withArgs(1, 1n);
    });
  });

  describe("announce", function () {
    it("stores the event, reserves the largest credit of every enrolled asset and emits EventAnnounced", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor, t0 } = f;
      const notice = t0 + 3n * HOUR + 7n * MINUTE;
      const params = eventParams(notice, notice + 30n * MINUTE, notice + 90n * MINUTE);
      await time.setNextBlockTimestamp(notice);
      await expect(programme.connect(sponsor).announce(1, params))
        .to.emit(programme, "EventAnnounced")
        .withArgs(1, 1, Object.values(params), 2, 2n * MAX_CREDIT);
      const ev = await programme.eventOf(1, 1);
      expect([
        ev.startTime,
        ev.noticeLeadSeconds,
        ev.durationSeconds,
        ev.baselineRule,
        ev.baselineWindowSeconds,
      ]).to.deep.equal([notice + 30n * MINUTE, 30n * MINUTE, HOUR, BigInt(BaselineRule.PreNotice), 2n * HOUR]);
      expect([ev.memberCount, ev.provenCount, ev.status, ev.ratePerKWh, ev.committedReductionJ]).to.deep.equal([
        2n,
        0n,
        BigInt(EventStatus.Announced),
        RATE_PER_KWH,
        COMMITTED_J,
      ]);
      const p = await programme.programmeOf(1);
      expect([p.eventCount, p.lastEventEnd, p.available]).to.deep.equal([
        1n,
        notice + 90n * MINUTE,
        FUNDS - 2n * MAX_CREDIT,
      ]);
      // The baseline window ends at the last 15-minute boundary before the notice.
      expect(await programme.baselineWindowOf(1, 1)).to.deep.equal([t0 + HOUR, t0 + 3n * HOUR]);
    });

    it("reverts each time rule with the bounds it broke, leaving the programme unchanged", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor, t0, oracle } = f;
      const now = t0 + 3n * HOUR + 7n * MINUTE;
      const go = async (p: ReturnType<typeof eventParams>) => {
        await time.setNextBlockTimestamp(BigInt(await time.latest()) + 1n);
        return programme.connect(sponsor).announce(1, p);
      };
      await time.setNextBlockTimestamp(now);
      await ethers.provider.send("evm_mine", []);
      const t = now + 1n;
      await expect(go(eventParams(t + 1n, t + HOUR, t + 2n * HOUR)))
        .to.be.revertedWithCustomError(programme, "InvalidNoticeTime")
        .withArgs(t + 1n, t - HOUR, t);
      await expect(go(eventParams(t + 1n - HOUR - 2n, t + HOUR, t + 2n * HOUR))).to.be.revertedWithCustomError(
        programme,
        "InvalidNoticeTime",
      );
      const lastReading = await oracle.lastBatchTimestamp();
      // Too soon after the notice.
      await expect(go(eventParams(t + 2n, t + 2n + 9n * MINUTE, t + 2n * HOUR)))
        .to.be.revertedWithCustomError(programme, "InvalidStartTime")
        .withArgs(t + 2n + 9n * MINUTE, t + 2n + 10n * MINUTE, t + 2n + 30n * DAY);
      // Too far from the notice.
      await expect(
        go(eventParams(t + 3n, t + 3n + 31n * DAY, t + 3n + 31n * DAY + HOUR)),
      ).to.be.revertedWithCustomError(programme, "InvalidStartTime");
      // Durations.
      await expect(go(eventParams(t + 4n, t + HOUR, t + HOUR + 14n * MINUTE)))
        .to.be.revertedWithCustomError(programme, "InvalidEventDuration")
        .withArgs(14n * MINUTE);
      await expect(go(eventParams(t + 5n, t + HOUR, t + HOUR + DAY + 1n))).to.be.revertedWithCustomError(
        programme,
        "InvalidEventDuration",
      );
      await expect(go(eventParams(t + 6n, t + HOUR, t + HOUR)))
        .to.be.revertedWithCustomError(programme, "InvalidEventDuration")
        .withArgs(0);
      // Rate and committed reduction.
      await expect(go(eventParams(t + 7n, t + HOUR, t + 2n * HOUR, { ratePerKWh: 0n })))
        .to.be.revertedWithCustomError(programme, "InvalidRate")
        .withArgs(0);
      await expect(go(eventParams(t + 8n, t + HOUR, t + 2n * HOUR, { ratePerKWh: 2n ** 64n })))
        .to.be.revertedWithCustomError(programme, "InvalidRate")
        .withArgs(2n ** 64n);
      await expect(go(eventParams(t + 9n, t + HOUR, t + 2n * HOUR, { committedReductionJ: 2n ** 40n })))
        .to.be.revertedWithCustomError(programme, "InvalidCommittedReduction")
        .withArgs(2n ** 40n);
      // Baseline windows.
      await expect(go(eventParams(t + 10n, t + HOUR, t + 2n * HOUR, { baselineWindowSeconds: 2n * HOUR + 60n })))
        .to.be.revertedWithCustomError(programme, "InvalidBaselineWindow")
        .withArgs(BaselineRule.PreNotice, 2n * HOUR + 60n);
      await expect(
        go(eventParams(t + 11n, t + HOUR, t + 2n * HOUR, { baselineWindowSeconds: 0n })),
      ).to.be.revertedWithCustomError(programme, "InvalidBaselineWindow");
      // PriorDay: the window one day earlier must end at or before the notice, and no window is given.
      await expect(
        go(
          eventParams(t + 12n, t + 23n * HOUR, t + 25n * HOUR, {
            baselineRule: BaselineRule.PriorDay,
            baselineWindowSeconds: 0n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(programme, "InvalidBaselineWindow")
        .withArgs(BaselineRule.PriorDay, 0);
      await expect(
        go(
          eventParams(t + 13n, t + HOUR, t + 2n * HOUR, {
            baselineRule: BaselineRule.PriorDay,
            baselineWindowSeconds: 900n,
          }),
        ),
      )
        .to.be.revertedWithCustomError(programme, "InvalidBaselineWindow")
        .withArgs(BaselineRule.PriorDay, 900);
      // Funds: 100 USDC cover 25 assets' largest credit of 4 USDC; 1,000 USDC per kWh does not.
      await expect(go(eventParams(t + 14n, t + HOUR, t + 2n * HOUR, { ratePerKWh: 1_000n * USDC })))
        .to.be.revertedWithCustomError(programme, "InsufficientFunds")
        .withArgs(1, 2n * 8n * 1_000n * USDC, FUNDS);
      expect((await programme.programmeOf(1)).eventCount).to.equal(0n);
      void lastReading;
    });

    it("refuses a start not after the oracle's latest reading (one stamped ahead, within the skew)", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor, oracle, rig } = f;
      const now = BigInt(await time.latest()) + 10n;
      const m = await rig.latest(1n);
      const { batch, signatures } = await rig.sign(
        now + 45n,
        new Map([
          [1n, { busyGpuSeconds: m.busyGpuSeconds, availableGpuSeconds: m.availableGpuSeconds, energyJ: m.energyJ }],
        ]),
      );
      await time.setNextBlockTimestamp(now);
      await rig.submit(batch, signatures);
      expect(await oracle.lastBatchTimestamp()).to.equal(now + 45n);
      const notice = now - 30n * MINUTE;
      await time.setNextBlockTimestamp(now + 1n);
      await expect(programme.connect(sponsor).announce(1, eventParams(notice, now + 30n, now + 30n + HOUR)))
        .to.be.revertedWithCustomError(programme, "InvalidStartTime")
        .withArgs(now + 30n, now + 46n, notice + 30n * DAY);
    });

    it("refuses an overlap with the previous event, NoMembers, NotSponsor and pause", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, other, admin, end } = f;
      const notice = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(notice);
      await expect(programme.connect(sponsor).announce(1, eventParams(notice, end - 60n, end + HOUR)))
        .to.be.revertedWithCustomError(programme, "InvalidStartTime")
        .withArgs(end - 60n, end, notice + 30n * DAY);
      await expect(
        programme.connect(other).announce(1, eventParams(notice + 1n, end + HOUR, end + 2n * HOUR)),
      ).to.be.revertedWithCustomError(programme, "AccessControlUnauthorizedAccount");
      await programme.connect(sponsor).createProgramme(await f.usdc.getAddress());
      await expect(programme.connect(sponsor).announce(2, eventParams(notice + 2n, end + HOUR, end + 2n * HOUR)))
        .to.be.revertedWithCustomError(programme, "NoMembers")
        .withArgs(2);
      await programme.connect(admin).grantRole(await programme.SPONSOR_ROLE(), other.address);
      await expect(programme.connect(other).announce(1, eventParams(notice + 3n, end + HOUR, end + 2n * HOUR)))
        .to.be.revertedWithCustomError(programme, "NotSponsor")
        .withArgs(1, other.address);
      await programme.connect(admin).pause();
      await expect(
        programme.connect(sponsor).announce(1, eventParams(notice + 4n, end + HOUR, end + 2n * HOUR)),
      ).to.be.revertedWithCustomError(programme, "EnforcedPause");
      expect((await programme.programmeOf(1)).eventCount).to.equal(1n);
    });

    it("accepts a PriorDay baseline whose window (one day earlier) ends before the notice", async function () {
      const f = await loadFixture(feeding);
      const { programme, sponsor } = f;
      const notice = BigInt(await time.latest()) + 10n;
      await time.setNextBlockTimestamp(notice);
      const params = eventParams(notice, notice + HOUR, notice + 3n * HOUR, {
        baselineRule: BaselineRule.PriorDay,
        baselineWindowSeconds: 0n,
      });
      await expect(programme.connect(sponsor).announce(1, params)).to.emit(programme, "EventAnnounced");
      expect(await programme.baselineWindowOf(1, 1)).to.deep.equal([notice + HOUR - DAY, notice + 3n * HOUR - DAY]);
    });
  });

  describe("cancel", function () {
    it("cancels the latest event before its start: its reservation returns, its window collapses", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, start, end } = f;
      await expect(programme.connect(sponsor).cancel(1, 1))
        .to.emit(programme, "EventCancelled")
        .withArgs(1, 1, 2n * MAX_CREDIT);
      const ev = await programme.eventOf(1, 1);
      expect([ev.status, ev.startTime, ev.durationSeconds]).to.deep.equal([BigInt(EventStatus.Cancelled), 0n, 0n]);
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS);
      expect((await programme.programmeOf(1)).lastEventEnd).to.equal(0n);
      expect(await programme.reservedOf(1, 1)).to.equal(0n);
      // The freed time can be announced again (the new event takes index 2).
      const notice = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(notice);
      await expect(programme.connect(sponsor).announce(1, eventParams(notice, start, end)))
        .to.emit(programme, "EventAnnounced")
        .withArgs(1, 2, Object.values(eventParams(notice, start, end)), 2, 2n * MAX_CREDIT);
      await expect(programme.connect(sponsor).cancel(1, 1))
        .to.be.revertedWithCustomError(programme, "CancelledEvent")
        .withArgs(1, 1);
    });

    it("reverts NotLatestEvent, EventStarted (started, or a reading at its start exists), UnknownEvent and NotSponsor", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, other, start, rig } = f;
      await expect(programme.connect(other).cancel(1, 1))
        .to.be.revertedWithCustomError(programme, "NotSponsor")
        .withArgs(1, other.address);
      await expect(programme.connect(sponsor).cancel(1, 2))
        .to.be.revertedWithCustomError(programme, "UnknownEvent")
        .withArgs(1, 2);
      await expect(programme.connect(sponsor).cancel(1, 0))
        .to.be.revertedWithCustomError(programme, "UnknownEvent")
        .withArgs(1, 0);
      // A reading stamped at the start already exists (posted early, within the oracle's skew).
      const m = await rig.latest(2n);
      const { batch, signatures } = await rig.sign(
        start,
        new Map([
          [2n, { busyGpuSeconds: m.busyGpuSeconds, availableGpuSeconds: m.availableGpuSeconds, energyJ: m.energyJ }],
        ]),
      );
      await time.setNextBlockTimestamp(start - 30n);
      await rig.submit(batch, signatures);
      await expect(programme.connect(sponsor).cancel(1, 1))
        .to.be.revertedWithCustomError(programme, "EventStarted")
        .withArgs(1, 1, start);
      expect(BigInt(await time.latest())).to.be.lessThan(start);
      expect((await programme.eventOf(1, 1)).status).to.equal(BigInt(EventStatus.Announced));
    });

    it("collapses a cancelled second event onto the first event's end, which bounds the next announcement", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, end } = f;
      const notice = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(notice);
      await programme.connect(sponsor).announce(1, eventParams(notice, end + HOUR, end + 2n * HOUR));
      await expect(programme.connect(sponsor).cancel(1, 2))
        .to.emit(programme, "EventCancelled")
        .withArgs(1, 2, 2n * MAX_CREDIT);
      const ev = await programme.eventOf(1, 2);
      expect([ev.startTime, ev.durationSeconds, ev.status]).to.deep.equal([end, 0n, BigInt(EventStatus.Cancelled)]);
      expect((await programme.programmeOf(1)).lastEventEnd).to.equal(end);
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS - 2n * MAX_CREDIT);
      expect(await programme.reservedOf(1, 2)).to.equal(0n);
    });

    it("reverts NotLatestEvent for an earlier event", async function () {
      const f = await loadFixture(announced);
      const { programme, sponsor, end } = f;
      const notice = BigInt(await time.latest()) + 1n;
      await time.setNextBlockTimestamp(notice);
      await programme.connect(sponsor).announce(1, eventParams(notice, end + HOUR, end + 2n * HOUR));
      await expect(programme.connect(sponsor).cancel(1, 1))
        .to.be.revertedWithCustomError(programme, "NotLatestEvent")
        .withArgs(1, 1, 2);
    });
  });

  describe("checkIn", function () {
    it("records the asset's NFT user with the share at check-in (a later share change does not move it)", async function () {
      const f = await loadFixture(announced);
      const { programme, provider, lessee, other, start } = f;
      await programme.connect(provider).setLesseeShare(1, 1n, 4_000);
      await time.setNextBlockTimestamp(start);
      await expect(programme.connect(other).checkIn(1, 1, 1n))
        .to.emit(programme, "CheckedIn")
        .withArgs(1, 1, 1n, lessee.address, 4_000);
      await programme.connect(provider).setLesseeShare(1, 1n, 0);
      expect(await programme.participantOf(1, 1, 1n)).to.deep.equal([lessee.address, 4_000n]);
      await expect(programme.connect(other).checkIn(1, 1, 1n))
        .to.be.revertedWithCustomError(programme, "AlreadyCheckedIn")
        .withArgs(1, 1, 1n, lessee.address);
    });

    it("reverts NotDuringEvent before the start and at the end, NoLessee, NotCalled and UnknownEvent", async function () {
      const f = await loadFixture(announced);
      const { programme, other, start, end, nft, provider } = f;
      await expect(programme.connect(other).checkIn(1, 1, 1n))
        .to.be.revertedWithCustomError(programme, "NotDuringEvent")
        .withArgs(1, 1, start, end);
      await time.setNextBlockTimestamp(start);
      await expect(programme.connect(other).checkIn(1, 1, 2n))
        .to.be.revertedWithCustomError(programme, "NoLessee")
        .withArgs(2n);
      await nft.mint(provider.address, {
        gpuModel: "NVIDIA H100 80GB HBM3",
        datacenter: "eu-west-fra2",
        serialsHash: ethers.id("serials-9"),
        vramMiBPerGpu: 81_559,
        gpuCount: 8,
        tdpWattsPerGpu: 700,
      });
      await expect(programme.connect(other).checkIn(1, 1, 3n))
        .to.be.revertedWithCustomError(programme, "NotCalled")
        .withArgs(1, 1, 3n);
      await expect(programme.connect(other).checkIn(1, 2, 1n))
        .to.be.revertedWithCustomError(programme, "UnknownEvent")
        .withArgs(1, 2);
      await time.setNextBlockTimestamp(end);
      await expect(programme.connect(other).checkIn(1, 1, 1n)).to.be.revertedWithCustomError(
        programme,
        "NotDuringEvent",
      );
    });
  });

  describe("proveReduction", function () {
    it("records a credited outcome with the event's available meters and settles the slice", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, start, end } = f;
      // Baseline 4,800 W over 1 h = 4.8 kWh; metered at idle 0.48 kWh; reduction 4.32 kWh (below the 8 kWh cap).
      const reduction = 4_320n * 3_600n;
      const credit = (reduction * RATE_PER_KWH) / 3_600_000n;
      await expect(prove(programme, rig, 1, 1, 1n, other))
        .to.emit(programme, "ReductionProven")
        .withArgs(1, 1, 1n, [OutcomeStatus.Credited, 17_280_000n, 1_728_000n, reduction, credit]);
      const o = await programme.outcomeOf(1, 1, 1n);
      const history = await rig.history();
      const at = (t: bigint) => history.readingsOf(1n).find((r) => r.meter.timestamp === t)!.meter.availableGpuSeconds;
      expect([o.status, o.availableAtStart, o.availableAtEnd, o.credit, o.ownerPaid, o.lesseePaid]).to.deep.equal([
        BigInt(OutcomeStatus.Credited),
        at(start),
        at(end),
        credit,
        false,
        false,
      ]);
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS - 2n * MAX_CREDIT + (MAX_CREDIT - credit));
      expect(await programme.reservedOf(1, 1)).to.equal(MAX_CREDIT);
    });

    it("records non-compliance for an asset that did not reduce, paying nothing", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other } = f;
      await expect(prove(programme, rig, 1, 1, 2n, other))
        .to.emit(programme, "NonCompliance")
        .withArgs(1, 1, 2n, OutcomeStatus.NoReduction, 17_280_000n, 17_280_000n)
        .and.not.to.emit(programme, "ReductionProven");
      expect((await programme.outcomeOf(1, 1, 2n)).credit).to.equal(0n);
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS - MAX_CREDIT);
    });

    it("reverts EventNotOver, AlreadyProven, NotCalled, MeterNotAtBoundary and the oracle's proof errors", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, oracle, end } = f;
      const ev = await storedEvent(programme, 1, 1);
      const proofs = reductionProofs(await rig.history(), ev, 1n)!;
      await expect(programme.connect(other).proveReduction(1, 1, 3n, proofs))
        .to.be.revertedWithCustomError(programme, "NotCalled")
        .withArgs(1, 1, 3n);
      await expect(programme.connect(other).proveReduction(1, 1, 1n, { ...proofs, baselineStart: ABSENT_BOUNDARY }))
        .to.be.revertedWithCustomError(programme, "MeterNotAtBoundary")
        .withArgs((await programme.baselineWindowOf(1, 1))[0], 0);
      // #2's proofs for #1.
      const other2 = reductionProofs(await rig.history(), ev, 2n)!;
      await expect(programme.connect(other).proveReduction(1, 1, 1n, other2))
        .to.be.revertedWithCustomError(oracle, "ReadingOfOtherAsset")
        .withArgs(1n, 2n);
      const forged = {
        ...proofs,
        eventEnd: { ...proofs.eventEnd, later: { ...proofs.eventEnd.later, path: [ethers.ZeroHash] } },
      };
      await expect(programme.connect(other).proveReduction(1, 1, 1n, forged)).to.be.revertedWithCustomError(
        oracle,
        "InvalidReadingProof",
      );
      await programme.connect(other).proveReduction(1, 1, 1n, proofs);
      await expect(programme.connect(other).proveReduction(1, 1, 1n, proofs))
        .to.be.revertedWithCustomError(programme, "AlreadyProven")
        .withArgs(1, 1, 1n);
      void end;
    });

    it("reverts EventNotOver while the event runs", async function () {
      const f = await loadFixture(announced);
      const { programme, other, end } = f;
      await expect(
        programme.connect(other).proveReduction(1, 1, 1n, {
          baselineStart: ABSENT_BOUNDARY,
          baselineEnd: ABSENT_BOUNDARY,
          eventStart: ABSENT_BOUNDARY,
          eventEnd: ABSENT_BOUNDARY,
        }),
      )
        .to.be.revertedWithCustomError(programme, "EventNotOver")
        .withArgs(1, 1, end);
    });

    it("records a proof after the claim window as Late, moving no funds", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, end } = f;
      await time.setNextBlockTimestamp(end + 30n * DAY + 1n);
      await expect(prove(programme, rig, 1, 1, 1n, other))
        .to.emit(programme, "ReductionProven")
        .withArgs(1, 1, 1n, [OutcomeStatus.Late, 17_280_000n, 1_728_000n, 4_320n * 3_600n, 0n]);
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS - 2n * MAX_CREDIT);
      expect((await programme.eventOf(1, 1)).provenCount).to.equal(0n);
    });

    it("proveReductions gives the same outcomes as one proof per asset, and refuses bad batches", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other } = f;
      const ev = await storedEvent(programme, 1, 1);
      const history = await rig.history();
      const proofs = [1n, 2n].map((a) => reductionProofs(history, ev, a)!);
      await expect(programme.connect(other).proveReductions(1, 1, [1n], proofs))
        .to.be.revertedWithCustomError(programme, "ProofCountMismatch")
        .withArgs(1, 2);
      await expect(programme.connect(other).proveReductions(1, 1, [], [])).to.be.revertedWithCustomError(
        programme,
        "ProofCountMismatch",
      );
      await expect(programme.connect(other).proveReductions(1, 1, [1n, 1n], [proofs[0], proofs[0]]))
        .to.be.revertedWithCustomError(programme, "AlreadyProven")
        .withArgs(1, 1, 1n);
      await expect(programme.connect(other).proveReductions(1, 1, [1n, 2n], proofs))
        .to.emit(programme, "ReductionProven")
        .and.to.emit(programme, "NonCompliance");
      expect((await programme.outcomeOf(1, 1, 1n)).status).to.equal(BigInt(OutcomeStatus.Credited));
      expect((await programme.outcomeOf(1, 1, 2n)).status).to.equal(BigInt(OutcomeStatus.NoReduction));
      expect((await programme.eventOf(1, 1)).provenCount).to.equal(2n);
      const credit = (await programme.outcomeOf(1, 1, 1n)).credit;
      expect((await programme.programmeOf(1)).available).to.equal(FUNDS - credit);
    });
  });

  describe("claimOwnerCredit and claimLesseeCredit", function () {
    it("pays the lessee its share at check-in and the owner the rest, once each", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, provider, lessee, usdc } = f;
      // The share was 0 at check-in: the whole credit is the owner's.
      await prove(programme, rig, 1, 1, 1n, other);
      const credit = (await programme.outcomeOf(1, 1, 1n)).credit;
      await expect(programme.connect(other).claimLesseeCredit(1, 1, 1n))
        .to.be.revertedWithCustomError(programme, "NoLesseePart")
        .withArgs(1, 1, 1n);
      const tx = programme.connect(other).claimOwnerCredit(1, 1, 1n);
      await expect(tx).to.emit(programme, "CreditPaid").withArgs(1, 1, 1n, provider.address, credit, false);
      await expect(tx).to.changeTokenBalances(usdc, [programme, provider], [-credit, credit]);
      await expect(programme.connect(other).claimOwnerCredit(1, 1, 1n))
        .to.be.revertedWithCustomError(programme, "AlreadyPaid")
        .withArgs(1, 1, 1n, false);
      void lessee;
    });

    it("splits by the share recorded at check-in, and pays the NFT's owner at claim time", async function () {
      const f = await loadFixture(announced);
      const { programme, rig, other, provider, lessee, usdc, nft, start, end, feeder, admin } = f;
      await programme.connect(provider).setLesseeShare(1, 1n, 2_500);
      const loadAt = (t: bigint, a: bigint) => (a === 1n && t > start && t <= end ? IDLE : FULL);
      await feeder.feed(start, ASSETS, loadAt, [start]);
      await time.setNextBlockTimestamp(start + 60n);
      await programme.connect(other).checkIn(1, 1, 1n);
      await feeder.feed(end + 15n * MINUTE, ASSETS, loadAt, [end]);
      await prove(programme, rig, 1, 1, 1n, other);
      const credit = (await programme.outcomeOf(1, 1, 1n)).credit;
      const toLessee = (credit * 2_500n) / 10_000n;
      const tx = programme.connect(other).claimLesseeCredit(1, 1, 1n);
      await expect(tx).to.emit(programme, "CreditPaid").withArgs(1, 1, 1n, lessee.address, toLessee, true);
      await expect(tx).to.changeTokenBalances(usdc, [programme, lessee], [-toLessee, toLessee]);
      await expect(programme.connect(other).claimLesseeCredit(1, 1, 1n))
        .to.be.revertedWithCustomError(programme, "AlreadyPaid")
        .withArgs(1, 1, 1n, true);
      // The NFT was sold: the buyer is paid the owner's part.
      await nft.connect(provider).transferFrom(provider.address, admin.address, 1n);
      await expect(programme.connect(other).claimOwnerCredit(1, 1, 1n)).to.changeTokenBalances(
        usdc,
        [programme, admin],
        [-(credit - toLessee), credit - toLessee],
      );
    });

    it("returns a burned asset's owner part to the sponsor's unreserved funds", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, nft, provider, escrow, keeper } = f;
      await prove(programme, rig, 1, 1, 1n, other);
      const credit = (await programme.outcomeOf(1, 1, 1n)).credit;
      await escrow.connect(provider).terminateByProvider(1n);
      void keeper;
      await nft.connect(provider).burn(1n);
      const before = (await programme.programmeOf(1)).available;
      await expect(programme.connect(other).claimOwnerCredit(1, 1, 1n))
        .to.emit(programme, "CreditReturned")
        .withArgs(1, 1, 1n, credit);
      expect((await programme.programmeOf(1)).available).to.equal(before + credit);
    });

    it("reverts NotCredited for a non-compliant or unproven asset", async function () {
      const f = await loadFixture(proven);
      const { programme, other } = f;
      await expect(programme.connect(other).claimOwnerCredit(1, 1, 2n))
        .to.be.revertedWithCustomError(programme, "NotCredited")
        .withArgs(1, 1, 2n);
      await expect(programme.connect(other).claimLesseeCredit(1, 1, 3n))
        .to.be.revertedWithCustomError(programme, "NotCredited")
        .withArgs(1, 1, 3n);
    });
  });

  describe("release", function () {
    it("returns unproven slices after the claim window, once; later proofs are Late", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, end } = f;
      await prove(programme, rig, 1, 1, 1n, other);
      await expect(programme.connect(other).release(1, 1))
        .to.be.revertedWithCustomError(programme, "ClaimWindowOpen")
        .withArgs(1, 1, end + 30n * DAY);
      await time.setNextBlockTimestamp(end + 30n * DAY + 1n);
      const before = (await programme.programmeOf(1)).available;
      await expect(programme.connect(other).release(1, 1))
        .to.emit(programme, "EventReleased")
        .withArgs(1, 1, MAX_CREDIT);
      expect((await programme.programmeOf(1)).available).to.equal(before + MAX_CREDIT);
      expect(await programme.reservedOf(1, 1)).to.equal(0n);
      await expect(programme.connect(other).release(1, 1))
        .to.be.revertedWithCustomError(programme, "AlreadyReleased")
        .withArgs(1, 1);
      await expect(prove(programme, rig, 1, 1, 2n, other)).to.emit(programme, "ReductionProven");
      expect((await programme.outcomeOf(1, 1, 2n)).status).to.equal(BigInt(OutcomeStatus.Late));
      expect((await programme.programmeOf(1)).available).to.equal(before + MAX_CREDIT);
    });
  });

  describe("pause", function () {
    it("is the pauser's only, and never stops check-ins, proofs, claims, cancellations or withdrawals", async function () {
      const f = await loadFixture(ended);
      const { programme, rig, other, admin, sponsor } = f;
      await expect(programme.connect(other).pause())
        .to.be.revertedWithCustomError(programme, "AccessControlUnauthorizedAccount")
        .withArgs(other.address, await programme.PAUSER_ROLE());
      await programme.connect(admin).pause();
      await prove(programme, rig, 1, 1, 1n, other);
      await programme.connect(other).claimOwnerCredit(1, 1, 1n);
      await programme.connect(sponsor).withdrawFunds(1, 1n, sponsor.address);
      await programme.connect(admin).unpause();
      await expect(programme.connect(other).unpause()).to.be.revertedWithCustomError(
        programme,
        "AccessControlUnauthorizedAccount",
      );
    });
  });

  describe("curtailedGpuSeconds", function () {
    it("is zero for an asset that was never enrolled, or a programme that does not exist", async function () {
      const { programme } = await loadFixture(feeding);
      const terms = {
        programme: await programme.getAddress(),
        programmeId: 1,
        reservationDiscountBps: 0,
        maxEventsPerLease: 8,
        maxEventSecondsPerLease: 3600,
      };
      expect(await programme.curtailedGpuSeconds(terms, 7n, 0, 10n ** 10n, 10n ** 10n, 0, 10n ** 9n)).to.equal(0n);
      expect(
        await programme.curtailedGpuSeconds({ ...terms, programmeId: 9 }, 1n, 0, 10n ** 10n, 10n ** 10n, 0, 10n ** 9n),
      ).to.equal(0n);
    });
  });
});

import { expect } from "chai";
import { loadFixture } from "@nomicfoundation/hardhat-network-helpers";
import { gridEmergencyAct } from "../../scripts/demo/acts/gridEmergency";
import {
  DAY,
  FULL,
  HOUR,
  IDLE,
  USDC,
  deployProgramme,
  nextGridTime,
  publishCurtailable,
  termsFor,
  time,
} from "./helpers";

const ASSETS = [1n, 2n];

/**
 * The demo's grid-emergency act (scripts/demo/acts/gridEmergency.ts) on the real system: two leased
 * servers (3-day leases, an energy price), #1 on curtailable terms naming the programme the act will
 * create, #2 on plain terms; the oracle metering both hourly through signed batches up to day two.
 * The act runs its own audit; this test checks it passed and spot-checks the table.
 */
async function dayTwo() {
  const f = await deployProgramme();
  await publishCurtailable(f, 1n, {}, { energyPricePerKWh: 200_000n });
  await f.escrow
    .connect(f.provider)
    .setLeaseTerms(2n, termsFor(await f.usdc.getAddress(), { energyPricePerKWh: 200_000n }));
  const t0 = await nextGridTime(60n, HOUR);
  await f.feeder.post(t0, new Map(ASSETS.map((a) => [a, FULL])));
  await time.setNextBlockTimestamp(t0 + 10n);
  await f.escrow.connect(f.lessee).openLease(1n, 1, 3n * DAY, 2_000n * USDC);
  await f.escrow.connect(f.lessee2).openLease(2n, 1, 3n * DAY, 2_000n * USDC);
  await f.feeder.feed(t0 + DAY + 14n * HOUR, ASSETS, () => FULL, [], HOUR);
  await time.setNextBlockTimestamp(t0 + DAY + 14n * HOUR + 20n * 60n);
  return f;
}

describe("demo act: grid emergency", function () {
  it("curtails the curtailable lease, proves and pays its credit, and leaves the plain lease's bill untouched", async function () {
    const f = await loadFixture(dayTwo);
    const lines: string[] = [];
    const summary = await gridEmergencyAct(
      {
        programme: f.programme,
        escrow: f.escrow,
        nft: f.nft,
        token: await f.usdc.getAddress(),
        sponsor: f.sponsor,
        owner: f.provider,
        curtailable: { assetId: 1n, leaseId: 1n },
        plain: { assetId: 2n, leaseId: 2n },
        funds: 100n * USDC,
      },
      {
        advance: async (to, curtailed, boundaries) => {
          const first = boundaries[0];
          const last = boundaries[boundaries.length - 1];
          await f.feeder.feed(
            to,
            ASSETS,
            (t, a) => (curtailed.has(a) && t > first && t <= last ? IDLE : FULL),
            boundaries,
            HOUR,
          );
        },
        history: () => f.rig.history(),
        keeper: f.other,
        log: (line) => lines.push(line),
      },
    );
    if (process.env.SHOW_ACT) console.log(lines.join("\n"));
    for (const check of summary.checks) expect(check.ok, `${check.name}: ${check.detail}`).to.equal(true);
    expect(summary.rows).to.have.length(2);
    const [curtailable, plain] = summary.rows;
    expect(curtailable.outcome).to.equal("Credited");
    // Baseline 4,800 W for 2 h = 9.6 kWh; idle 0.96 kWh; 8.64 kWh reduced, capped at 8: 4.00 USDC, 30 % to the lessee.
    expect(curtailable.credit).to.equal("4.0000 mUSDC");
    expect(curtailable.toLessee).to.equal("1.2000 mUSDC");
    expect(plain.outcome).to.equal("NoReduction");
    expect(plain.reservationNotBilled).to.equal("0.0000 mUSDC");
    expect(Number(curtailable.kwhPerBusyGpuHour)).to.be.greaterThan(Number(plain.kwhPerBusyGpuHour) - 1e-9);
    expect(lines.some((l) => l.includes("energy and demand response per lease"))).to.equal(true);
  });
});

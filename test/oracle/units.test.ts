import { expect } from "chai";
import {
  JOULES_PER_KWH,
  applyBps,
  bpsToFraction,
  fractionToBps,
  gpuHoursToGpuSeconds,
  gpuSecondsToGpuHours,
  joulesToKwh,
  kwhToJoules,
  maxEnergyDeltaJ,
  millijoulesToJoules,
  ratioBps,
  wattsSecondsToJoules,
} from "../../src/units";

describe("src/units", function () {
  it("converts joules and kilowatt-hours", function () {
    expect(joulesToKwh(JOULES_PER_KWH)).to.equal(1);
    expect(joulesToKwh(5_400_000n)).to.equal(1.5);
    expect(kwhToJoules(1.5)).to.equal(5_400_000n);
    expect(kwhToJoules(0.0000001)).to.equal(0n);
    expect(() => kwhToJoules(-1)).to.throw(RangeError);
    expect(() => joulesToKwh(-1n)).to.throw(RangeError);
  });

  it("converts millijoules and watt-seconds to joules", function () {
    expect(millijoulesToJoules(1_999n)).to.equal(1n);
    expect(wattsSecondsToJoules(700, 300)).to.equal(210_000);
    expect(() => wattsSecondsToJoules(Number.NaN, 1)).to.throw(RangeError);
  });

  it("converts GPU-seconds and GPU-hours", function () {
    expect(gpuSecondsToGpuHours(28_800n)).to.equal(8);
    expect(gpuHoursToGpuSeconds(0.5)).to.equal(1_800n);
    expect(() => gpuHoursToGpuSeconds(Number.POSITIVE_INFINITY)).to.throw(RangeError);
  });

  it("computes basis points, rounding down", function () {
    expect(ratioBps(2n, 3n)).to.equal(6_666n);
    expect(ratioBps(5n, 0n)).to.equal(0n);
    expect(applyBps(999n, 3_333n)).to.equal(332n);
    expect(bpsToFraction(9_500n)).to.equal(0.95);
    expect(fractionToBps(0.95)).to.equal(9_500n);
  });

  it("bounds an energy delta as the oracle does", function () {
    // 1 GPU x 300 W x 60 s x 1.1
    expect(maxEnergyDeltaJ(1n, 300n, 60n, 1_000n)).to.equal(19_800n);
    expect(maxEnergyDeltaJ(8n, 700n, 1n, 0n)).to.equal(5_600n);
  });
});

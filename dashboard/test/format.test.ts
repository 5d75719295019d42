/** The page's rounding rules (src/format.ts) and derived meter figures (src/metrics.ts), without a browser. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { exactAmount, formatAmount, formatNumber, roundParts, roundToShown, writeShown } from "../src/format";
import { between, intervalSeries } from "../src/metrics";

describe("formatAmount", () => {
  it("rounds half up to cents from exact base units", () => {
    assert.equal(formatAmount(630_855_987n, 6), "630.86");
    assert.equal(formatAmount(169_144_013n, 6), "169.14");
    assert.equal(formatAmount(5_000n, 6), "0.01"); // exactly half a cent rounds up
    assert.equal(formatAmount(4_999n, 6), "0.00");
    assert.equal(formatAmount(1_234_567_890_000n, 6), "1,234,567.89");
  });

  it("rounds negative amounts symmetrically (half away from zero)", () => {
    assert.equal(formatAmount(-16_815_000n, 6), "-16.82");
    assert.equal(formatAmount(-4_999n, 6), "0.00"); // no negative zero
  });

  it("pads tokens with fewer decimals than shown", () => {
    assert.equal(formatAmount(7n, 0), "7.00");
    assert.equal(roundToShown(7n, 1), 70n);
  });

  it("keeps every decimal in the exact form", () => {
    assert.equal(exactAmount(630_855_987n, 6), "630.855987");
    assert.equal(writeShown(-5n), "-0.05");
  });
});

describe("formatNumber", () => {
  it("writes a fixed count of decimals with thousands separators, and a dash for no figure", () => {
    assert.equal(formatNumber(1234.56, 1), "1,234.6");
    assert.equal(formatNumber(0.52149, 3), "0.521");
    assert.equal(formatNumber(0.52149, 3), "0.521"); // the cached format gives the same
    assert.equal(formatNumber(Number.NaN, 1), "–");
  });
});

describe("roundParts", () => {
  it("rounds the parts of a total so that they add up to the rounded total", () => {
    // The demo's H100 lease: 800.00 deposited, split into charged and refunded.
    const parts = roundParts(800_000_000n, [630_855_987n, 169_144_013n, 0n], 6);
    assert.deepEqual(parts, [63_086n, 16_914n, 0n]);
    assert.equal(
      parts.reduce((a, b) => a + b, 0n),
      80_000n,
    );
  });

  it("gives the missing cents to the largest remainders where independent rounding would not add up", () => {
    // 3 x 0.003333 + 0.000001 = 0.01: each alone rounds to 0.00, together they must show 0.01.
    const parts = roundParts(10_000n, [3_333n, 3_334n, 3_333n], 6);
    assert.deepEqual(parts, [0n, 1n, 0n]);
    // 0.005 + 0.005 = 0.01: each alone rounds up to 0.01 (sum 0.02); the first keeps the cent.
    assert.deepEqual(roundParts(10_000n, [5_000n, 5_000n], 6), [1n, 0n]);
  });

  it("refuses parts that do not sum to the total, or a negative part", () => {
    assert.throws(() => roundParts(10n, [3n, 3n], 6), RangeError);
    assert.throws(() => roundParts(0n, [3n, -3n], 6), RangeError);
  });
});

describe("meter figures", () => {
  const a = { timestamp: 1_000n, busyGpuSeconds: 0n, availableGpuSeconds: 0n, energyJ: 0n };
  const b = { timestamp: 4_600n, busyGpuSeconds: 14_400n, availableGpuSeconds: 28_800n, energyJ: 7_200_000n };

  it("derives utilization, availability, energy and kWh per GPU-hour from two cumulative readings", () => {
    // 8 GPUs for one hour: 8 available GPU-hours would be 100 %; 8 were available, 4 busy, 2 kWh used.
    const f = between(a, b, 8);
    assert.equal(f.seconds, 3_600);
    assert.equal(f.utilization, 0.5);
    assert.equal(f.availability, 1);
    assert.equal(f.energyKwh, 2);
    assert.equal(f.kwhPerGpuHour, 0.25);
  });

  it("gives NaN, not a division by zero, when nothing was available", () => {
    const f = between(a, { ...a, timestamp: 4_600n }, 8);
    assert.ok(Number.isNaN(f.utilization) && Number.isNaN(f.kwhPerGpuHour));
    assert.equal(f.availability, 0);
  });

  it("builds one chart point per interval", () => {
    const s = intervalSeries([a, b, { ...b, timestamp: 8_200n, energyJ: 10_800_000n }], 8);
    assert.deepEqual(s.time, [4_600, 8_200]);
    assert.deepEqual(s.utilizationPct, [50, null]);
    assert.deepEqual(s.availabilityPct, [100, 0]);
    assert.deepEqual(s.powerKw, [2, 1]);
    assert.deepEqual(s.energyKwh, [2, 3]);
  });
});

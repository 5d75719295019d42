/**
 * Real telemetry captures (test/feeder/fixtures, each one's public source in SOURCES.md) through the
 * feeder's parsers and meters. Every expected number below was read off the capture by hand and is
 * written in DESIGN.md units (percent, watts, MiB, °C, joules, unix ms).
 */
import { expect } from "chai";
import fs from "node:fs";
import path from "node:path";
import { emptyMeterState, ingestSamples } from "../../feeder/meters";
import { parseDcgm } from "../../feeder/sources/dcgm";
import { parseNvidiaSmiCsv, type NvidiaSmiRow } from "../../feeder/sources/nvidiaSmi";
import type { GpuSample } from "../../feeder/types";

const FIXTURES = path.join(__dirname, "fixtures");
const read = (file: string) => fs.readFileSync(path.join(FIXTURES, file), "utf8");
/** nvidia-smi timestamps are host-local wall-clock time. */
const local = (y: number, mo: number, d: number, h: number, mi: number, s: number, ms: number) =>
  new Date(y, mo - 1, d, h, mi, s, ms).getTime();
const MASKED_UUID = "GPU-00000000-0000-0000-0000-000000000000";

/** The numeric fields of a sample, in the feeder's units (what meters and logs use). */
function numbers(s: GpuSample) {
  return {
    timeMs: s.timeMs,
    utilizationPct: s.utilizationPct,
    powerW: s.powerW,
    powerLimitW: s.powerLimitW,
    memoryUsedMiB: s.memoryUsedMiB,
    memoryTotalMiB: s.memoryTotalMiB,
    temperatureC: s.temperatureC,
    energyCounterJ: s.energyCounterJ,
  };
}

function rowNumbers(r: NvidiaSmiRow) {
  return {
    utilizationPct: r.utilizationPct,
    powerW: r.powerW,
    powerLimitW: r.powerLimitW,
    memoryUsedMiB: r.memoryUsedMiB,
    memoryTotalMiB: r.memoryTotalMiB,
    temperatureC: r.temperatureC,
  };
}

const none = { energyCounterJ: undefined };

describe("feeder: real nvidia-smi captures", function () {
  describe("every field the GPU supports (--query-gpu=<all>, --format=csv), two runs appended", function () {
    const cases: {
      file: string;
      model: string;
      pci: string;
      serial: boolean;
      idle: ReturnType<typeof numbers>;
      load: ReturnType<typeof numbers>;
    }[] = [
      {
        file: "h100-sxm-80gb-full-query.csv",
        model: "NVIDIA H100 80GB HBM3",
        pci: "pci:00000000:00:09.0",
        serial: false,
        idle: {
          timeMs: local(2026, 7, 14, 8, 12, 38, 696),
          utilizationPct: 0,
          powerW: 69.85,
          powerLimitW: 700,
          memoryUsedMiB: 0,
          memoryTotalMiB: 81559,
          temperatureC: 41,
          ...none,
        },
        load: {
          timeMs: local(2026, 7, 14, 8, 12, 53, 353),
          utilizationPct: 100,
          powerW: 631.95,
          powerLimitW: 700,
          memoryUsedMiB: 19818,
          memoryTotalMiB: 81559,
          temperatureC: 59,
          ...none,
        },
      },
      {
        file: "l40s-full-query.csv",
        model: "NVIDIA L40S",
        pci: "pci:00000000:01:00.0",
        serial: false,
        idle: {
          timeMs: local(2026, 7, 3, 8, 33, 38, 737),
          utilizationPct: 100,
          powerW: 144.97,
          powerLimitW: 350,
          memoryUsedMiB: 0,
          memoryTotalMiB: 46068,
          temperatureC: 63,
          ...none,
        },
        load: {
          timeMs: local(2026, 7, 3, 8, 33, 53, 415),
          utilizationPct: 9,
          powerW: 110.23,
          powerLimitW: 350,
          memoryUsedMiB: 1235,
          memoryTotalMiB: 46068,
          temperatureC: 54,
          ...none,
        },
      },
      {
        file: "rtx-4080-super-full-query.csv",
        model: "NVIDIA GeForce RTX 4080 SUPER",
        pci: "pci:00000000:01:00.0",
        serial: false,
        idle: {
          timeMs: local(2026, 6, 26, 11, 59, 44, 226),
          utilizationPct: 0,
          powerW: 26.2,
          powerLimitW: 320,
          memoryUsedMiB: 596,
          memoryTotalMiB: 16376,
          temperatureC: 43,
          ...none,
        },
        load: {
          timeMs: local(2026, 6, 26, 11, 59, 58, 761),
          utilizationPct: 7,
          powerW: 84.24,
          powerLimitW: 320,
          memoryUsedMiB: 1474,
          memoryTotalMiB: 16376,
          temperatureC: 46,
          ...none,
        },
      },
      {
        file: "rtx-2080-super-windows-full-query.csv",
        model: "NVIDIA GeForce RTX 2080 SUPER",
        pci: "pci:00000000:0C:00.0",
        serial: false,
        idle: {
          timeMs: local(2026, 6, 24, 10, 17, 41, 589),
          utilizationPct: 0,
          powerW: 39.25,
          powerLimitW: 250,
          memoryUsedMiB: 797,
          memoryTotalMiB: 8192,
          temperatureC: 40,
          ...none,
        },
        load: {
          timeMs: local(2026, 6, 24, 10, 17, 56, 770),
          utilizationPct: 7,
          powerW: 97.99,
          powerLimitW: 250,
          memoryUsedMiB: 1366,
          memoryTotalMiB: 8192,
          temperatureC: 44,
          ...none,
        },
      },
    ];
    for (const c of cases) {
      it(`${c.file}: reads each run's numbers in DESIGN units, the bracketed fields leave only themselves out`, function () {
        const text = read(`nvidia-smi/${c.file}`);
        expect(text).to.match(/\[Requested functionality has been deprecated\]/);
        const { samples, errors } = parseNvidiaSmiCsv(text, { host: "rack7-node3" });
        expect(errors).to.deep.equal([]);
        expect(samples).to.have.length(2);
        expect(samples.map(numbers)).to.deep.equal([c.idle, c.load]);
        for (const s of samples) {
          expect(s.uuid).to.equal(MASKED_UUID);
          expect(s.model).to.equal(c.model);
          expect(s.utilizationSource).to.equal("utilization.gpu");
          // The masked serial (all zeros) is no identity; PCI bus id and host + index are.
          expect(s.aliases).to.deep.equal([c.pci, "index:rack7-node3/0"]);
        }
      });
    }

    it("h200-mig-full-query.csv: utilization.gpu is [N/A] under MIG, so busy is unknown (absent), never 0", function () {
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/h200-mig-full-query.csv"));
      expect(errors).to.deep.equal([]);
      expect(samples.map(numbers)).to.deep.equal([
        {
          timeMs: local(2026, 7, 3, 22, 22, 1, 444),
          utilizationPct: undefined,
          powerW: 78.28,
          powerLimitW: 700,
          memoryUsedMiB: 55,
          memoryTotalMiB: 143771,
          temperatureC: 28,
          ...none,
        },
        {
          timeMs: local(2026, 7, 3, 22, 22, 27, 218),
          utilizationPct: undefined,
          powerW: 295.01,
          powerLimitW: 700,
          memoryUsedMiB: 16959,
          memoryTotalMiB: 143771,
          temperatureC: 36,
          ...none,
        },
      ]);
      expect(samples[0]).to.not.have.property("utilizationPct");
      expect(samples[0]).to.not.have.property("utilizationSource");
      expect(samples[0].aliases).to.deep.equal(["pci:00000000:83:00.0"]);
    });

    it("the Windows driver's [Function Not Found] is missing for its field only", function () {
      const text = read("nvidia-smi/rtx-2080-super-windows-full-query.csv");
      expect(text).to.contain("[Function Not Found]");
      const { rows } = parseNvidiaSmiCsv(text);
      expect(rows).to.have.length(2);
      expect(rows[0].powerW).to.equal(39.25); // power.draw, while power.draw.average is [N/A]
    });
  });

  describe("smaller queries", function () {
    it("tesla-p100-nounits.csv: units in the header only; fan.speed [N/A] does not drop the row", function () {
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/tesla-p100-nounits.csv"), {
        fallbackTimeMs: 1_700_000_000_000,
      });
      expect(errors).to.deep.equal([]);
      expect(samples).to.have.length(1);
      expect(samples[0].uuid).to.equal("GPU-ef1b2c9b-38d8-2090-2bd1-f567a3eb42a6");
      expect(samples[0].model).to.equal("Tesla P100-PCIE-16GB");
      expect(numbers(samples[0])).to.deep.equal({
        timeMs: 1_700_000_000_000, // no timestamp column: the poll time
        utilizationPct: 0,
        powerW: 28.16,
        powerLimitW: undefined,
        memoryUsedMiB: 0,
        memoryTotalMiB: undefined,
        temperatureC: 37,
        ...none,
      });
    });

    it("a100-sxm4-40gb-pci-noheader.csv: header-less rows in the configured query order, GPUs by PCI bus id", function () {
      const fields = [
        "timestamp",
        "name",
        "pci.bus_id",
        "driver_version",
        "pstate",
        "pcie.link.gen.max",
        "pcie.link.gen.current",
        "temperature.gpu",
        "utilization.gpu",
        "utilization.memory",
        "memory.total",
        "memory.free",
        "memory.used",
      ];
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/a100-sxm4-40gb-pci-noheader.csv"), { fields });
      expect(errors).to.deep.equal([]);
      const row = (s: GpuSample) => [
        s.uuid,
        s.timeMs,
        s.utilizationPct,
        s.temperatureC,
        s.memoryUsedMiB,
        s.memoryTotalMiB,
      ];
      expect(samples.map(row)).to.deep.equal([
        ["pci:00000000:3B:00.0", local(2024, 6, 1, 11, 27, 5, 177), 0, 44, 4, 40960],
        ["pci:00000000:8B:00.0", local(2024, 6, 1, 11, 27, 5, 188), 0, 42, 4, 40960],
        ["pci:00000000:0B:00.0", local(2024, 6, 1, 11, 27, 5, 192), 0, 43, 4, 40960],
        ["pci:00000000:8B:00.0", local(2024, 6, 1, 11, 27, 15, 309), 3, 42, 38803, 40960],
        ["pci:00000000:0B:00.0", local(2024, 6, 1, 11, 27, 15, 311), 3, 43, 38803, 40960],
        ["pci:00000000:3B:00.0", local(2024, 6, 1, 11, 27, 15, 311), 3, 44, 38803, 40960],
        ["pci:00000000:8B:00.0", local(2024, 6, 1, 11, 27, 25, 361), 3, 43, 39671, 40960],
        ["pci:00000000:3B:00.0", local(2024, 6, 1, 11, 27, 25, 376), 1, 44, 39427, 40960],
      ]);
      expect(samples.every((s) => s.powerW === undefined)).to.equal(true);
    });

    it("a100-sxm4-40gb-pci-noheader.csv: meters per GPU from the three polls (busy from utilization, no power, no energy)", function () {
      const fields =
        "timestamp,name,pci.bus_id,driver_version,pstate,pcie.link.gen.max,pcie.link.gen.current,temperature.gpu,utilization.gpu,utilization.memory,memory.total,memory.free,memory.used".split(
          ",",
        );
      const { samples } = parseNvidiaSmiCsv(read("nvidia-smi/a100-sxm4-40gb-pci-noheader.csv"), { fields });
      const state = emptyMeterState();
      const assetOf = new Map([
        ["pci:00000000:3B:00.0", "1"],
        ["pci:00000000:8B:00.0", "2"],
        ["pci:00000000:0B:00.0", "3"],
      ]);
      expect(ingestSamples(state, samples, assetOf, { staleAfterSeconds: 15 })).to.equal(8);
      const m = (id: string) => state.assets[id].meter;
      // 3B: 05.177 -> 15.311 (3 %) -> 25.376 (1 %)
      expect(m("1").availableGpuSeconds).to.be.closeTo(20.199, 1e-9);
      expect(m("1").busyGpuSeconds).to.be.closeTo(10.134 * 0.03 + 10.065 * 0.01, 1e-9);
      // 8B: 05.188 -> 15.309 (3 %) -> 25.361 (3 %)
      expect(m("2").availableGpuSeconds).to.be.closeTo(20.173, 1e-9);
      expect(m("2").busyGpuSeconds).to.be.closeTo(20.173 * 0.03, 1e-9);
      // 0B: 05.192 -> 15.311 (3 %)
      expect(m("3").availableGpuSeconds).to.be.closeTo(10.119, 1e-9);
      for (const id of ["1", "2", "3"]) expect(m(id).energyJ).to.equal(0);
    });

    it("gtx-1650-super-index-loop.csv: the pasted command line is skipped; index + host label identify the GPU", function () {
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/gtx-1650-super-index-loop.csv"), {
        host: "desk",
        fallbackTimeMs: 5,
      });
      expect(errors).to.deep.equal([]);
      expect(samples.map((s) => [s.uuid, s.utilizationPct, s.powerW, s.temperatureC])).to.deep.equal([
        ["index:desk/0", 24, 16.5, 47],
        ["index:desk/0", 18, 16.52, 47],
        ["index:desk/0", 42, 16.89, 47],
        ["index:desk/0", 17, 16.28, 47],
        ["index:desk/0", 21, 15.67, 47],
      ]);
    });

    it("gtx-1650-super-index-loop.csv: without a host label the index alone identifies nothing, and says so", function () {
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/gtx-1650-super-index-loop.csv"));
      expect(samples).to.deep.equal([]);
      expect(errors).to.have.length(5);
      expect(errors[0]).to.equal(
        "line 3: the GPU is not identified: query uuid, pci.bus_id or serial, or index with a host label",
      );
    });

    it("index-loop-driver-520.csv: thirteen polls of one GPU", function () {
      const { samples, errors } = parseNvidiaSmiCsv(read("nvidia-smi/index-loop-driver-520.csv"), {
        host: "h",
        fallbackTimeMs: 1,
      });
      expect(errors).to.deep.equal([]);
      expect(samples.map((s) => s.utilizationPct)).to.deep.equal([26, 25, 24, 26, 27, 28, 29, 30, 28, 32, 28, 23, 25]);
      expect(samples.map((s) => s.powerW)).to.deep.equal([
        83.92, 78.22, 84.77, 78.63, 83.67, 77.39, 82.81, 77, 82.64, 76.64, 82.4, 77.8, 83.43,
      ]);
      expect(samples.map((s) => s.temperatureC)).to.deep.equal([56, 55, 56, 55, 55, 55, 55, 55, 55, 55, 55, 55, 55]);
    });

    it("gtx-1080ti-1060-no-identity.csv: every field is read, but two unidentified GPUs give no samples and two errors", function () {
      const { samples, rows, errors } = parseNvidiaSmiCsv(read("nvidia-smi/gtx-1080ti-1060-no-identity.csv"));
      expect(samples).to.deep.equal([]);
      expect(rows.map(rowNumbers)).to.deep.equal([
        {
          utilizationPct: 36,
          powerW: 106.56,
          powerLimitW: undefined,
          memoryUsedMiB: 2856,
          memoryTotalMiB: 11175,
          temperatureC: 60,
        },
        {
          utilizationPct: 0,
          powerW: 5.68,
          powerLimitW: undefined,
          memoryUsedMiB: 4,
          memoryTotalMiB: 6078,
          temperatureC: 49,
        },
      ]);
      expect(rows.map((r) => r.name)).to.deep.equal(["GeForce GTX 1080 Ti", "GeForce GTX 1060 6GB"]);
      expect(errors).to.have.length(2);
      expect(errors.every((e) => /the GPU is not identified/.test(e))).to.equal(true);
    });

    it("noheader-nounits-bracketed.csv: [N/A] and [Not Supported] fan speed leave every other field intact", function () {
      const fields = [
        "memory.total",
        "memory.free",
        "memory.used",
        "temperature.gpu",
        "fan.speed",
        "utilization.gpu",
        "utilization.memory",
      ];
      const { rows } = parseNvidiaSmiCsv(read("nvidia-smi/noheader-nounits-bracketed.csv"), { fields });
      expect(rows.map(rowNumbers)).to.deep.equal([
        {
          utilizationPct: 0,
          powerW: undefined,
          powerLimitW: undefined,
          memoryUsedMiB: 0,
          memoryTotalMiB: 2004,
          temperatureC: 44,
        },
        {
          utilizationPct: 0,
          powerW: undefined,
          powerLimitW: undefined,
          memoryUsedMiB: 0,
          memoryTotalMiB: 2004,
          temperatureC: 44,
        },
      ]);
    });
  });
});

describe("feeder: real dcgm-exporter captures", function () {
  const AT = 1_750_000_000_000;

  it("tesla-t4-dev-util.prom: DCGM_FI_DEV_GPU_UTIL, power in W, the energy counter from mJ to J", function () {
    const { samples, errors } = parseDcgm(read("dcgm/tesla-t4-dev-util.prom"), AT);
    expect(errors).to.deep.equal([]);
    expect(samples).to.have.length(1);
    expect(samples[0]).to.deep.equal({
      uuid: "GPU-20c56d28-0da5-6d26-a36a-e7af1ce2586e",
      timeMs: AT,
      model: "Tesla T4",
      utilizationPct: 0,
      utilizationSource: "DCGM_FI_DEV_GPU_UTIL",
      powerW: 8.969,
      energyCounterJ: 128_996.013,
    });
  });

  it("v100-sxm2-dev-util-excerpt.prom: the GPUs without a utilization series are busy unknown, not idle", function () {
    const { samples, errors } = parseDcgm(read("dcgm/v100-sxm2-dev-util-excerpt.prom"), AT, { host: "r6i3n0" });
    expect(errors).to.deep.equal([]);
    expect(samples.map((s) => [s.uuid, s.aliases, s.utilizationPct, s.utilizationSource])).to.deep.equal([
      ["GPU-a6158b59-2c1e-1e63-0068-9178c4298abd", ["index:r6i3n0/0"], 0, "DCGM_FI_DEV_GPU_UTIL"],
      ["GPU-8d5053b3-9280-7d1a-751b-4fd2fdd547c5", ["index:r6i3n0/1"], undefined, undefined],
      ["GPU-a9079f15-493e-6c1c-c78c-73ec2b840cba", ["index:r6i3n0/2"], undefined, undefined],
      ["GPU-bd94f0f5-8c2f-bc95-74ad-5f99fdc33d01", ["index:r6i3n0/3"], undefined, undefined],
    ]);
    expect(samples.every((s) => s.powerW === undefined && s.energyCounterJ === undefined)).to.equal(true);
  });

  it("a30-mig-gr-engine-excerpt.prom: per-MIG-instance ratios weighted by compute slices; power averaged per GPU", function () {
    const { samples, errors } = parseDcgm(read("dcgm/a30-mig-gr-engine-excerpt.prom"), AT);
    expect(errors).to.deep.equal([]);
    expect(samples.map((s) => [s.uuid, s.utilizationPct, s.utilizationSource])).to.deep.equal([
      ["GPU-265c9814-6156-355b-e589-ff2064894f16", 0, "DCGM_FI_PROF_GR_ENGINE_ACTIVE (MIG)"],
      ["GPU-2d20791a-b4a6-ba59-97f1-e95b99fe5b49", 0, "DCGM_FI_PROF_GR_ENGINE_ACTIVE (MIG)"],
    ]);
    expect(samples[0].powerW).to.be.closeTo((52.636 + 52.636 + 52.746 + 52.746) / 4, 1e-9);
    expect(samples[1].powerW).to.be.closeTo((56.121 + 56.127) / 2, 1e-9);
  });

  it("a30-mig-gr-engine-excerpt.prom: an instance 60 % active on 1 of an A30's 4 slices is 15 % of the GPU", function () {
    const text = read("dcgm/a30-mig-gr-engine-excerpt.prom").replace(
      /(GPU_I_ID="3",Hostname="yg-data-k8s-gpu-a30-node-test-test0003.mt"\} )0\.000000/,
      "$10.600000",
    );
    const { samples } = parseDcgm(text, AT);
    expect(samples[0].utilizationPct).to.be.closeTo(15, 1e-9);
  });

  it("h100-mig-gr-engine-excerpt.prom: three 1g.10gb instances (pod labels or not) of one GPU, found by UUID or PCI bus id", function () {
    const { samples, errors } = parseDcgm(read("dcgm/h100-mig-gr-engine-excerpt.prom"), AT);
    expect(errors).to.deep.equal([]);
    expect(samples).to.deep.equal([
      {
        uuid: "GPU-58e8f5ea-13cc-013a-d88f-2bcf5ae8bc77",
        aliases: ["pci:00000000:1A:00.0"],
        timeMs: AT,
        model: "NVIDIA H100 80GB HBM3",
        utilizationPct: 0,
        utilizationSource: "DCGM_FI_PROF_GR_ENGINE_ACTIVE (MIG)",
      },
    ]);
  });

  it("l40s-gr-engine-only-grep.prom: no DCGM_FI_DEV_GPU_UTIL, so the profiling ratio is used; the shell prompt is ignored", function () {
    const { samples, errors } = parseDcgm(read("dcgm/l40s-gr-engine-only-grep.prom"), AT);
    expect(errors).to.deep.equal([]);
    expect(samples.map((s) => [s.uuid, s.aliases, s.utilizationPct, s.utilizationSource])).to.deep.equal([
      ["GPU-585834da-79ca-0599-5140-4ffdb131ae93", ["pci:00000000:4E:00.0"], 0, "DCGM_FI_PROF_GR_ENGINE_ACTIVE"],
      ["GPU-8f8001ff-73ba-2e83-3cdc-4156ae4f3912", ["pci:00000000:62:00.0"], 0, "DCGM_FI_PROF_GR_ENGINE_ACTIVE"],
      ["GPU-5bd39b62-f1d2-21f3-d9d5-24cf8d513c73", ["pci:00000000:C9:00.0"], 0, "DCGM_FI_PROF_GR_ENGINE_ACTIVE"],
    ]);
  });

  it("rtx-3090-no-util-excerpt.prom: a GPU that reports but has no utilization is present and busy unknown", function () {
    const { samples, errors } = parseDcgm(read("dcgm/rtx-3090-no-util-excerpt.prom"), AT);
    expect(errors).to.deep.equal([]);
    expect(samples).to.deep.equal([
      {
        uuid: "GPU-96be9fff-fdfd-9b87-88d4-fe5b9a012148",
        aliases: ["pci:00000000:08:00.0"],
        timeMs: AT,
        model: "NVIDIA GeForce RTX 3090",
      },
    ]);
  });

  it("a busy-unknown GPU accrues available time and no busy time, and its unknown seconds are counted", function () {
    const text = read("dcgm/rtx-3090-no-util-excerpt.prom");
    const state = emptyMeterState();
    const assetOf = new Map([["GPU-96be9fff-fdfd-9b87-88d4-fe5b9a012148", "9"]]);
    for (const t of [0, 5_000, 10_000])
      ingestSamples(state, parseDcgm(text, AT + t).samples, assetOf, { staleAfterSeconds: 30 });
    expect(state.assets["9"].meter).to.include({ availableGpuSeconds: 10, busyGpuSeconds: 0 });
    expect(state.gpus["GPU-96be9fff-fdfd-9b87-88d4-fe5b9a012148"]).to.include({
      busyKnown: false,
      busyUnknownSeconds: 10,
    });
  });
});

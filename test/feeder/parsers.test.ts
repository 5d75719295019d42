import { expect } from "chai";
import { parseNvidiaSmiCsv, NvidiaSmiSource } from "../../feeder/sources/nvidiaSmi";
import { parseDcgm, parsePrometheusText, DcgmSource } from "../../feeder/sources/dcgm";
import { parseQuantity, parseNvidiaSmiTimestamp } from "../../feeder/sources/normalize";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";

const U0 = "GPU-5d3b6f1e-8c2a-4f5e-9b1d-2a7c9e4f6b01";
const U1 = "GPU-a0f31c77-2b44-91de-07c3-55e1d9b8f2aa";

// nvidia-smi --query-gpu=timestamp,index,uuid,name,utilization.gpu,power.draw,power.limit,memory.used,memory.total,temperature.gpu --format=csv
const WITH_HEADER_AND_UNITS = `timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB], temperature.gpu
2025/03/14 09:26:53.511, 0, ${U0}, NVIDIA H100 80GB HBM3, 97 %, 641.25 W, 700.00 W, 78112 MiB, 81559 MiB, 71
2025/03/14 09:26:53.514, 1, ${U1}, NVIDIA H100 80GB HBM3, 0 %, 71.90 W, 700.00 W, 4 MiB, 81559 MiB, 33
`;

// ... --format=csv,nounits (the header keeps its unit brackets)
const WITH_HEADER_NO_UNITS = `timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB], temperature.gpu
2025/03/14 09:26:58.512, 0, ${U0}, NVIDIA H100 80GB HBM3, 100, 688.04, 700.00, 78112, 81559, 72
2025/03/14 09:26:58.515, 1, ${U1}, NVIDIA H100 80GB HBM3, 12, 143.67, 700.00, 10242, 81559, 35
`;

// ... --format=csv,noheader,nounits -l 5 (two polls)
const NO_HEADER_NO_UNITS = `2025/03/14 09:27:03.512, 0, ${U0}, NVIDIA H100 80GB HBM3, 99, 672.11, 700.00, 78112, 81559, 72
2025/03/14 09:27:03.515, 1, ${U1}, NVIDIA H100 80GB HBM3, 40, 301.50, 700.00, 10242, 81559, 39
2025/03/14 09:27:08.512, 0, ${U0}, NVIDIA H100 80GB HBM3, 98, 665.00, 700.00, 78112, 81559, 72
2025/03/14 09:27:08.515, 1, ${U1}, NVIDIA H100 80GB HBM3, 41, 305.25, 700.00, 10242, 81559, 39
`;

// A consumer card and a MIG-enabled GPU: utilization and power not available.
const NOT_AVAILABLE = `timestamp, index, uuid, name, utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], memory.total [MiB], temperature.gpu
2025/03/14 09:26:53.511, 0, ${U0}, NVIDIA A100-SXM4-80GB, [N/A], [N/A], 400.00 W, 0 MiB, 81920 MiB, 31
2025/03/14 09:26:53.514, 1, ${U1}, NVIDIA GeForce RTX 3090, [Not Supported], 112.34 W, [Not Supported], 1024 MiB, 24576 MiB, 45
`;

describe("feeder: units (normalize)", function () {
  describe("parseQuantity", function () {
    it("reads values with and without units", function () {
      expect(parseQuantity("45 %", "percent")).to.equal(45);
      expect(parseQuantity("250.12 W", "watts")).to.equal(250.12);
      expect(parseQuantity("250.12", "watts")).to.equal(250.12);
      expect(parseQuantity("40536 MiB", "mib")).to.equal(40536);
      expect(parseQuantity("2 GiB", "mib")).to.equal(2048);
      expect(parseQuantity("1500 mJ", "joules")).to.equal(1.5);
    });
    it("returns undefined for [N/A], [Not Supported] and empty", function () {
      for (const v of ["[N/A]", "[Not Supported]", "", " N/A ", "[Unknown Error]"])
        expect(parseQuantity(v, "watts")).to.equal(undefined);
    });
    it("throws on a unit that does not belong to the quantity", function () {
      expect(() => parseQuantity("250 MiB", "watts")).to.throw(/unknown unit "MiB"/);
      expect(() => parseQuantity("abc", "watts")).to.throw(/cannot parse/);
    });
  });
  describe("parseNvidiaSmiTimestamp", function () {
    it("reads the host-local timestamp with milliseconds", function () {
      expect(parseNvidiaSmiTimestamp("2025/03/14 09:26:53.511")).to.equal(
        new Date(2025, 2, 14, 9, 26, 53, 511).getTime(),
      );
      expect(parseNvidiaSmiTimestamp("[N/A]")).to.equal(undefined);
    });
  });
});

describe("feeder: nvidia-smi CSV parser", function () {
  describe("parseNvidiaSmiCsv", function () {
    it("reads output with header and units", function () {
      const { samples, errors } = parseNvidiaSmiCsv(WITH_HEADER_AND_UNITS);
      expect(errors).to.deep.equal([]);
      expect(samples).to.have.length(2);
      expect(samples[0]).to.deep.equal({
        uuid: U0,
        timeMs: new Date(2025, 2, 14, 9, 26, 53, 511).getTime(),
        utilizationPct: 97,
        utilizationSource: "utilization.gpu",
        powerW: 641.25,
        powerLimitW: 700,
        memoryUsedMiB: 78112,
        memoryTotalMiB: 81559,
        temperatureC: 71,
        model: "NVIDIA H100 80GB HBM3",
      });
      expect(samples[1].utilizationPct).to.equal(0);
      expect(samples[1].powerW).to.equal(71.9);
    });
    it("reads output with header and no units", function () {
      const { samples, errors } = parseNvidiaSmiCsv(WITH_HEADER_NO_UNITS);
      expect(errors).to.deep.equal([]);
      expect(samples.map((s) => [s.uuid, s.utilizationPct, s.powerW])).to.deep.equal([
        [U0, 100, 688.04],
        [U1, 12, 143.67],
      ]);
    });
    it("reads headerless output of several polls in the query's field order", function () {
      const { samples, errors } = parseNvidiaSmiCsv(NO_HEADER_NO_UNITS);
      expect(errors).to.deep.equal([]);
      expect(samples).to.have.length(4);
      expect(samples[3]).to.include({ uuid: U1, utilizationPct: 41, powerW: 305.25, memoryUsedMiB: 10242 });
      expect(samples[2].timeMs - samples[0].timeMs).to.equal(5000);
    });
    it("leaves [N/A] and [Not Supported] fields out instead of reading zero", function () {
      const { samples, errors } = parseNvidiaSmiCsv(NOT_AVAILABLE);
      expect(errors).to.deep.equal([]);
      expect(samples[0]).to.not.have.property("utilizationPct");
      expect(samples[0]).to.not.have.property("powerW");
      expect(samples[0].powerLimitW).to.equal(400);
      expect(samples[1]).to.not.have.property("utilizationPct");
      expect(samples[1]).to.not.have.property("powerLimitW");
      expect(samples[1].powerW).to.equal(112.34);
    });
    it("follows a header that reorders the columns", function () {
      const text = `uuid, utilization.gpu [%], timestamp, power.draw [W]\n${U0}, 55 %, 2025/03/14 09:26:53.511, 300.00 W\n`;
      const { samples } = parseNvidiaSmiCsv(text);
      expect(samples[0]).to.include({ uuid: U0, utilizationPct: 55, powerW: 300 });
    });
    it("reports malformed rows and keeps the good ones; an unreadable field is missing for that field only", function () {
      const text = `${NO_HEADER_NO_UNITS}2025/03/14 09:27:13.512, 0, ${U0}\nsomething, broken, 1, 2, 3, 4, 5, 6, 7, 8\n2025/03/14 09:27:13.515, 1, ${U1}, NVIDIA H100 80GB HBM3, 40 V, 1, 1, 1, 1, 1\n`;
      const { samples, errors } = parseNvidiaSmiCsv(text);
      expect(samples).to.have.length(5);
      expect(samples[4]).to.deep.include({ uuid: U1, powerW: 1, memoryUsedMiB: 1, temperatureC: 1 });
      expect(samples[4]).to.not.have.property("utilizationPct");
      expect(errors).to.deep.equal([
        "line 5: expected 10 fields, got 3",
        'line 6: timestamp: cannot read "something"',
        'line 6: uuid: cannot read "1"',
        'line 6: index: cannot read "broken"',
        "line 6: the GPU is not identified: query uuid, pci.bus_id or serial, or index with a host label",
        'line 7: utilization.gpu: unknown unit "V" for percent in "40 V"',
      ]);
    });
    // Inputs below are written for the test (the rule each pins is named); real captures are in captures.test.ts.
    it("treats every bracketed value as missing, whatever its words", function () {
      const header =
        "timestamp, uuid, utilization.gpu [%], power.draw [W], power.limit [W], memory.used [MiB], temperature.gpu";
      const rows = [
        "[GPU is lost]",
        "[Unknown Error]",
        "[Requested functionality has been deprecated]",
        "[Some future wording]",
      ].map((b, i) => `2025/03/14 09:26:5${i}.000, ${U0}, ${b}, ${b}, ${b}, ${b}, ${b}`);
      const { samples, errors } = parseNvidiaSmiCsv([header, ...rows].join("\n"));
      expect(errors).to.deep.equal([]);
      expect(samples).to.have.length(4);
      for (const s of samples) expect(Object.keys(s).sort()).to.deep.equal(["timeMs", "uuid"]);
    });
    it("follows repeated headers (a restarted -l loop appending to one file), each setting the column order", function () {
      const text = [
        "index, uuid, utilization.gpu [%]",
        `0, ${U0}, 10 %`,
        "uuid, power.draw [W], utilization.gpu [%], index",
        `${U0}, 250.00 W, 20 %, 0`,
      ].join("\n");
      const { samples, errors, fields } = parseNvidiaSmiCsv(text, { fallbackTimeMs: 7 });
      expect(errors).to.deep.equal([]);
      expect(samples.map((s) => [s.utilizationPct, s.powerW])).to.deep.equal([
        [10, undefined],
        [20, 250],
      ]);
      expect(fields).to.deep.equal(["uuid", "power.draw", "utilization.gpu", "index"]);
    });
    it("skips a watch banner, takes the column order from its query and the sample time from its date", function () {
      const text = [
        "Every 2.0s: nvidia-smi --query-gpu=pci.bus_id,utilization.gpu,power.draw --format=csv,noheader     gpu-node-3: Mon Dec 18 10:34:52 2023",
        "",
        "00000000:3B:00.0, 73 %, 245.00 W",
        "0000:8b:00.0, 74 %, 248.50 W",
      ].join("\n");
      const { samples, errors } = parseNvidiaSmiCsv(text, { fallbackTimeMs: 1 });
      expect(errors).to.deep.equal([]);
      const at = new Date(2023, 11, 18, 10, 34, 52).getTime();
      expect(samples).to.deep.equal([
        {
          uuid: "pci:00000000:3B:00.0",
          timeMs: at,
          utilizationPct: 73,
          utilizationSource: "utilization.gpu",
          powerW: 245,
        },
        {
          uuid: "pci:00000000:8B:00.0",
          timeMs: at,
          utilizationPct: 74,
          utilizationSource: "utilization.gpu",
          powerW: 248.5,
        },
      ]);
    });
    it("identifies a GPU by serial, and names its other keys as aliases", function () {
      const text = "serial, index, pci.bus_id, utilization.gpu\n1324621114474, 4, 00000000:94:00.0, 5\n";
      const { samples } = parseNvidiaSmiCsv(text, { host: "a100-box", fallbackTimeMs: 1 });
      expect(samples[0].uuid).to.equal("pci:00000000:94:00.0");
      expect(samples[0].aliases).to.deep.equal(["serial:1324621114474", "index:a100-box/4"]);
    });
  });

  describe("NvidiaSmiSource", function () {
    it("reads only what was appended to a file since the last read, keeping a partial last line", async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feeder-smi-"));
      const file = path.join(dir, "gpu.csv");
      const lines = NO_HEADER_NO_UNITS.split("\n");
      fs.writeFileSync(file, `${lines[0]}\n${lines[1].slice(0, 20)}`);
      const src = new NvidiaSmiSource({ mode: "file", path: file });
      expect((await src.read()).map((s) => s.uuid)).to.deep.equal([U0]);
      fs.appendFileSync(file, `${lines[1].slice(20)}\n${lines[2]}\n`);
      expect((await src.read()).map((s) => s.uuid)).to.deep.equal([U1, U0]);
      expect(await src.read()).to.deep.equal([]);
      fs.writeFileSync(file, `${lines[3]}\n`); // truncated (rotated): read from the start
      expect((await src.read()).map((s) => s.uuid)).to.deep.equal([U1]);
      fs.rmSync(dir, { recursive: true });
    });
    it("consumes a stream (nvidia-smi -l N piped to stdin), header included", async function () {
      const input = new PassThrough();
      const src = new NvidiaSmiSource({ mode: "stdin" }, Date.now, input);
      input.write(WITH_HEADER_NO_UNITS.slice(0, 250));
      await new Promise((r) => setImmediate(r));
      const first = await src.read();
      input.write(WITH_HEADER_NO_UNITS.slice(250));
      await new Promise((r) => setImmediate(r));
      const second = await src.read();
      expect([...first, ...second].map((s) => s.powerW)).to.deep.equal([688.04, 143.67]);
      await src.close();
    });
    it("runs a command and parses its output; a failing command throws", async function () {
      const src = new NvidiaSmiSource({
        mode: "command",
        command: "printf",
        args: ["%s", NO_HEADER_NO_UNITS],
        timeoutMs: 5000,
      });
      expect(await src.read()).to.have.length(4);
      const bad = new NvidiaSmiSource({ mode: "command", command: "false", args: [], timeoutMs: 5000 });
      let error: Error | undefined;
      await bad.read().catch((e: Error) => (error = e));
      expect(error?.message).to.match(/false exited with 1/);
    });
  });
});

// curl -s localhost:9400/metrics on an 2-GPU node (dcgm-exporter 3.x default counters, trimmed)
const DCGM_SCRAPE = `# HELP DCGM_FI_DEV_SM_CLOCK SM clock frequency (in MHz).
# TYPE DCGM_FI_DEV_SM_CLOCK gauge
DCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="${U0}",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 1980
DCGM_FI_DEV_SM_CLOCK{gpu="1",UUID="${U1}",pci_bus_id="00000000:2A:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 1980
# HELP DCGM_FI_DEV_GPU_UTIL GPU utilization (in %).
# TYPE DCGM_FI_DEV_GPU_UTIL gauge
DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="${U0}",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 93
DCGM_FI_DEV_GPU_UTIL{gpu="1",UUID="${U1}",pci_bus_id="00000000:2A:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 0
# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).
# TYPE DCGM_FI_DEV_POWER_USAGE gauge
DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 612.345000
DCGM_FI_DEV_POWER_USAGE{gpu="1",UUID="${U1}",pci_bus_id="00000000:2A:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 69.117000
# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION Total energy consumption since boot (in mJ).
# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="0",UUID="${U0}",pci_bus_id="00000000:18:00.0",device="nvidia0",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 8317405123
DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu="1",UUID="${U1}",pci_bus_id="00000000:2A:00.0",device="nvidia1",modelName="NVIDIA H100 80GB HBM3",Hostname="gpu-node-7",DCGM_FI_DRIVER_VERSION="550.90.07"} 1204551907
`;

describe("feeder: DCGM exporter parser", function () {
  describe("parsePrometheusText", function () {
    it("reads labels with escapes, optional timestamps, and skips comments", function () {
      const { samples, errors } = parsePrometheusText(
        `# HELP x y\nmetric_a{a="1",b="say \\"hi\\"",c="back\\\\slash"} 3.5 1710408413000\nmetric_b 7\nmetric_c{a="1"} NaN\nbroken{a="1" 2\n`,
      );
      expect(errors).to.have.length(1);
      expect(samples[0]).to.deep.equal({
        name: "metric_a",
        labels: { a: "1", b: 'say "hi"', c: "back\\slash" },
        value: 3.5,
        timestampMs: 1710408413000,
      });
      expect(samples[1]).to.deep.equal({ name: "metric_b", labels: {}, value: 7 });
      expect(samples[2].value).to.be.NaN;
    });
  });
  describe("parseDcgm", function () {
    it("returns one sample per GPU UUID with utilization, power and the energy counter in joules", function () {
      const { samples, errors } = parseDcgm(DCGM_SCRAPE, 1_710_408_413_000);
      expect(errors).to.deep.equal([]);
      expect(samples).to.deep.equal([
        {
          uuid: U0,
          aliases: ["pci:00000000:18:00.0"],
          timeMs: 1_710_408_413_000,
          model: "NVIDIA H100 80GB HBM3",
          utilizationSource: "DCGM_FI_DEV_GPU_UTIL",
          utilizationPct: 93,
          powerW: 612.345,
          energyCounterJ: 8_317_405.123,
        },
        {
          uuid: U1,
          aliases: ["pci:00000000:2A:00.0"],
          timeMs: 1_710_408_413_000,
          model: "NVIDIA H100 80GB HBM3",
          utilizationSource: "DCGM_FI_DEV_GPU_UTIL",
          utilizationPct: 0,
          powerW: 69.117,
          energyCounterJ: 1_204_551.907,
        },
      ]);
    });
    it("reads series whose labels carry escapes through the full parser", function () {
      const text = `DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}",modelName="H100 \\"SXM\\""} 250.5 1710408413000\n`;
      const { samples, errors } = parseDcgm(text, 1000);
      expect(errors).to.deep.equal([]);
      expect(samples).to.deep.equal([{ uuid: U0, timeMs: 1710408413000, model: 'H100 "SXM"', powerW: 250.5 }]);
    });
    it("treats NaN values as missing (busy unknown) and reports series it cannot identify", function () {
      const text = `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="${U0}"} NaN\nDCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}"} 100\nDCGM_FI_DEV_GPU_UTIL{gpu="3"} 5\n`;
      const { samples, errors } = parseDcgm(text, 1000);
      expect(samples).to.deep.equal([{ uuid: U0, timeMs: 1000, powerW: 100 }]);
      expect(errors).to.deep.equal([
        'DCGM_FI_DEV_GPU_UTIL{gpu="3"} has no UUID, pci_bus_id or serial label (and no host label is configured for gpu)',
      ]);
      // With the source's host label the index identifies it.
      expect(parseDcgm(text, 1000, { host: "n1" }).samples[1]).to.deep.include({
        uuid: "index:n1/3",
        utilizationPct: 5,
      });
    });
    // Inputs below are written for the test (the rule each pins is named); real captures are in captures.test.ts.
    it("prefers DCGM_FI_DEV_GPU_UTIL, falls back to DCGM_FI_PROF_GR_ENGINE_ACTIVE (ratio -> percent)", function () {
      const both = `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="${U0}"} 40\nDCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="${U0}"} 0.9\n`;
      expect(parseDcgm(both, 1).samples[0]).to.include({
        utilizationPct: 40,
        utilizationSource: "DCGM_FI_DEV_GPU_UTIL",
      });
      const prof = `DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="${U0}"} 0.875\nDCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}"} 409.1\n`;
      expect(parseDcgm(prof, 1).samples[0]).to.include({
        utilizationPct: 87.5,
        utilizationSource: "DCGM_FI_PROF_GR_ENGINE_ACTIVE",
        powerW: 409.1,
      });
    });
    it("drawing 409 W with neither utilization field is busy unknown, not busy 0", function () {
      const text = `DCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}"} 409\nDCGM_FI_DEV_SM_CLOCK{gpu="0",UUID="${U0}"} 1980\n`;
      const [s] = parseDcgm(text, 1).samples;
      expect(s.powerW).to.equal(409);
      expect(s).to.not.have.property("utilizationPct");
    });
    it("ignores DCGM_FI_DEV_GPU_UTIL of a MIG instance (reported as 0) and weights instances by their slices", function () {
      const l = (id: string, prof: string) =>
        `gpu="0",UUID="${U0}",modelName="NVIDIA H100 80GB HBM3",GPU_I_PROFILE="${prof}",GPU_I_ID="${id}"`;
      const text = [
        `DCGM_FI_DEV_GPU_UTIL{${l("1", "3g.40gb")}} 0`,
        `DCGM_FI_PROF_GR_ENGINE_ACTIVE{${l("1", "3g.40gb")}} 1`,
        `DCGM_FI_PROF_GR_ENGINE_ACTIVE{${l("2", "4g.40gb")}} 0.5`,
      ].join("\n");
      const [s] = parseDcgm(text, 1).samples;
      expect(s.utilizationSource).to.equal("DCGM_FI_PROF_GR_ENGINE_ACTIVE (MIG)");
      expect(s.utilizationPct).to.be.closeTo(((3 * 1 + 4 * 0.5) / 7) * 100, 1e-9);
    });
    it("reports a profiling ratio above 1 and caps it", function () {
      const { samples, errors } = parseDcgm(`DCGM_FI_PROF_GR_ENGINE_ACTIVE{gpu="0",UUID="${U0}"} 87\n`, 1);
      expect(samples[0].utilizationPct).to.equal(100);
      expect(errors).to.deep.equal([`DCGM_FI_PROF_GR_ENGINE_ACTIVE{UUID="${U0}"} is 87, above the ratio 1`]);
    });
  });

  describe("DcgmSource", function () {
    it("scrapes a file at the clock's time", async function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), "feeder-dcgm-"));
      const file = path.join(dir, "metrics.txt");
      fs.writeFileSync(file, DCGM_SCRAPE);
      const src = new DcgmSource({ mode: "file", path: file }, () => 42_000);
      const samples = await src.read();
      expect(samples.map((s) => s.timeMs)).to.deep.equal([42_000, 42_000]);
      fs.rmSync(dir, { recursive: true });
    });
  });
});

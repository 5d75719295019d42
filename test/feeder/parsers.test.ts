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
    it("reports malformed rows and keeps the good ones", function () {
      const text = `${NO_HEADER_NO_UNITS}2025/03/14 09:27:13.512, 0, ${U0}\nsomething, broken, 1, 2, 3, 4, 5, 6, 7, 8\n2025/03/14 09:27:13.515, 1, ${U1}, NVIDIA H100 80GB HBM3, 40 V, 1, 1, 1, 1, 1\n`;
      const { samples, errors } = parseNvidiaSmiCsv(text);
      expect(samples).to.have.length(4);
      expect(errors).to.have.length(3);
      expect(errors[0]).to.match(/line 5: expected 10 fields, got 3/);
      expect(errors[1]).to.match(/line 6: no GPU UUID/);
      expect(errors[2]).to.match(/line 7: unknown unit "V"/);
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
          timeMs: 1_710_408_413_000,
          model: "NVIDIA H100 80GB HBM3",
          utilizationPct: 93,
          powerW: 612.345,
          energyCounterJ: 8_317_405.123,
        },
        {
          uuid: U1,
          timeMs: 1_710_408_413_000,
          model: "NVIDIA H100 80GB HBM3",
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
    it("treats NaN values as missing and reports series without a UUID", function () {
      const text = `DCGM_FI_DEV_GPU_UTIL{gpu="0",UUID="${U0}"} NaN\nDCGM_FI_DEV_POWER_USAGE{gpu="0",UUID="${U0}"} 100\nDCGM_FI_DEV_GPU_UTIL{gpu="3"} 5\n`;
      const { samples, errors } = parseDcgm(text, 1000);
      expect(samples).to.deep.equal([{ uuid: U0, timeMs: 1000, powerW: 100 }]);
      expect(errors).to.deep.equal(['DCGM_FI_DEV_GPU_UTIL{gpu="3"} has no UUID label']);
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

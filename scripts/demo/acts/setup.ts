/**
 * Act 1 — setup: the registrar mints three GPU servers to Helios Compute; Helios fractionalizes the
 * H100 rack into a vault with three holders; the vault's manager and Helios publish lease terms; the
 * three oracle operators start their co-signing feeders, which post the first readings.
 */
import { id as keccakId } from "ethers";
import { RevenueSplitVault__factory, type RevenueSplitVault } from "../../../typechain-types";
import { amount } from "../render";
import { HOUR, SHARE, World, type Persona } from "../world";

export interface SetupResult {
  vault: RevenueSplitVault;
  holders: [Persona, bigint][];
}

const SERVERS = [
  {
    name: "fra-1 H100 rack",
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-central/fra-1",
    gpuCount: 8,
    vram: 81559,
    tdp: 700,
    seed: 11,
  },
  {
    name: "ams-2 A100 node",
    gpuModel: "NVIDIA A100-SXM4-80GB",
    datacenter: "eu-west/ams-2",
    gpuCount: 4,
    vram: 81920,
    tdp: 400,
    seed: 22,
  },
  {
    name: "sin-1 L40S box",
    gpuModel: "NVIDIA L40S",
    datacenter: "ap-southeast/sin-1",
    gpuCount: 2,
    vram: 46068,
    tdp: 350,
    seed: 33,
  },
];

/** Lease terms in the story's token: prices in whole tokens per GPU-hour (energy per kWh). */
export function terms(
  w: World,
  t: { reservation: number; usage: number; energyPerKWh: number; sla: number; maxHours: number; earlyEnd: boolean },
) {
  return {
    token: w.c.usdc.target as string,
    reservationPricePerGpuHour: w.usd(t.reservation),
    usagePricePerBusyGpuHour: w.usd(t.usage),
    energyPricePerKWh: w.usd(t.energyPerKWh),
    minDurationSeconds: BigInt(HOUR),
    maxDurationSeconds: BigInt(t.maxHours * HOUR),
    slaAvailabilityBps: t.sla,
    earlyEndAllowed: t.earlyEnd,
  };
}

/** Describes an asset's current terms from the escrow's record. */
export async function describeTerms(w: World, assetId: bigint): Promise<string> {
  const t = await w.c.escrow.leaseTermsOf(assetId);
  const v = await w.c.escrow.currentTermsVersion(assetId);
  const p = (x: bigint) => amount(x, w.decimals);
  return (
    `v${v}: ${p(t.reservationPricePerGpuHour)} per GPU-h + ${p(t.usagePricePerBusyGpuHour)} per busy GPU-h + ` +
    `${p(t.energyPricePerKWh)} per kWh, SLA ${Number(t.slaAvailabilityBps) / 100} %, ${t.earlyEndAllowed ? "early end allowed" : "no early end"}`
  );
}

export async function setupAct(w: World, helios: Persona, ana: Persona, ben: Persona, registrarAddress: string) {
  const { nft, escrow, factory, usdc } = w.c;
  const registrar = await w.hre.ethers.getSigner(registrarAddress);
  const runTag = `${w.chainId}:${w.t0}`;
  for (const s of SERVERS) {
    const gpus = World.gpusOf(s.name, s.gpuCount);
    await w.send(
      "register GPU servers",
      nft.connect(registrar).mint(helios.wallet.address, {
        gpuModel: s.gpuModel,
        datacenter: s.datacenter,
        serialsHash: keccakId(`${runTag}:serials:${gpus.join(",")}`),
        vramMiBPerGpu: s.vram,
        gpuCount: s.gpuCount,
        tdpWattsPerGpu: s.tdp,
      }),
    );
    const assetId = await nft.lastAssetId();
    w.servers.push({ ...s, assetId, gpus });
    w.say(
      `registrar mints asset #${assetId} to Helios Compute: ${s.gpuCount}× ${s.gpuModel}, ${s.tdp} W each, ${s.datacenter}`,
    );
  }
  const [h100, a100, l40s] = w.servers.map((s) => s.assetId);

  // Fractionalize #1.
  const factoryAddr = await factory.getAddress();
  await w.send("fractionalize into a vault", nft.connect(helios.wallet).approve(factoryAddr, h100));
  const holders: [Persona, bigint][] = [
    [helios, 400n * SHARE],
    [ana, 350n * SHARE],
    [ben, 250n * SHARE],
  ];
  await w.send(
    "fractionalize into a vault",
    factory.connect(helios.wallet).createVault(
      h100,
      await usdc.getAddress(),
      helios.wallet.address,
      holders.map(([p]) => p.wallet.address),
      holders.map(([, n]) => n),
    ),
  );
  const vault = RevenueSplitVault__factory.connect(await factory.vaultOf(h100), w.provider);
  w.names.set((await vault.getAddress()).toLowerCase(), "the vault");
  w.say(
    `Helios fractionalizes #${h100} into vault ${await vault.getAddress()}: ${((await vault.totalSupply()) / SHARE).toLocaleString("en-US")} shares — ${holders.map(([p, n]) => `${p.name} ${n / SHARE}`).join(", ")}`,
  );

  // Terms.
  await w.send(
    "publish lease terms",
    vault
      .connect(helios.wallet)
      .setLeaseTerms(
        terms(w, { reservation: 1.2, usage: 1.1, energyPerKWh: 0.25, sla: 9900, maxHours: 7 * 24, earlyEnd: false }),
      ),
  );
  w.say(`vault manager publishes terms for #${h100}: ${await describeTerms(w, h100)}`);
  await w.send(
    "publish lease terms",
    escrow
      .connect(helios.wallet)
      .setLeaseTerms(
        a100,
        terms(w, { reservation: 0.7, usage: 0.6, energyPerKWh: 0.2, sla: 8000, maxHours: 7 * 24, earlyEnd: true }),
      ),
  );
  w.say(`Helios publishes terms for #${a100}: ${await describeTerms(w, a100)}`);
  await w.send(
    "publish lease terms",
    escrow
      .connect(helios.wallet)
      .setLeaseTerms(
        l40s,
        terms(w, { reservation: 0.4, usage: 0.35, energyPerKWh: 0.2, sla: 9500, maxHours: 7 * 24, earlyEnd: true }),
      ),
  );
  w.say(`Helios publishes terms for #${l40s}: ${await describeTerms(w, l40s)}`);

  // The oracle network.
  const net = await w.startOracleNetwork();
  w.say(
    `${net.operators.length} oracle operators start their feeders (${net.threshold} of ${net.signers} must co-sign each batch); each reads its own telemetry and checks the others' readings`,
  );
  return { vault, holders } satisfies SetupResult;
}

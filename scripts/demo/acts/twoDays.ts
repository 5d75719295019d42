/**
 * Act 2 — three days of leases: Lumen AI leases the vault's H100 rack for 48 h (EIP-2612 permit),
 * Quark Labs the A100 node for 72 h (approve). The rack loses half its GPUs for three hours (below
 * its SLA), the A100 host goes silent for four (unproven: never billed). A keeper settles from
 * readings past their dispute window, Lumen tops up, Quark ends early; the vault harvests, holders
 * claim, Ana sells shares to Cleo; each lease is closed from the first reading at or after its end.
 */
import { signPermit } from "../../../src/leases";
import type { RevenueSplitVault } from "../../../typechain-types";
import { HOUR, SHARE, type Persona, type World } from "../world";

export interface TwoDaysPeople {
  helios: Persona;
  ana: Persona;
  ben: Persona;
  cleo: Persona;
  lumen: Persona;
  quark: Persona;
  keeper: Persona;
}

export interface VaultBook {
  harvests: bigint[];
  claimed: Map<string, bigint>;
  claims: number;
}

/** The keeper harvests the vault (when the escrow holds revenue for it). */
export async function harvest(w: World, vault: RevenueSplitVault, keeper: Persona, book: VaultBook): Promise<void> {
  if ((await vault.pendingHarvest()) === 0n) return;
  const before = await vault.totalHarvested();
  await w.send("harvest vault", vault.connect(keeper.wallet).harvest());
  const got = (await vault.totalHarvested()) - before;
  book.harvests.push(got);
  w.say(
    `keeper harvests the vault: ${w.fmt(got)} withdrawn from the escrow and spread over ${((await vault.totalSupply()) / SHARE).toLocaleString("en-US")} shares`,
  );
}

/** A holder claims what it has accrued. */
export async function claim(w: World, vault: RevenueSplitVault, p: Persona, book: VaultBook): Promise<void> {
  const c = await vault.claimable(p.wallet.address);
  if (c === 0n) return;
  await w.send("holders claim", vault.connect(p.wallet).claim(p.wallet.address));
  book.claims++;
  book.claimed.set(p.wallet.address, (book.claimed.get(p.wallet.address) ?? 0n) + c);
  w.say(`${p.name} claims ${w.fmt(c)}`);
}

export async function twoDaysAct(w: World, ppl: TwoDaysPeople, vault: RevenueSplitVault, book: VaultBook) {
  const { escrow, usdc } = w.c;
  const [h100, a100] = w.servers.map((s) => s.assetId);
  const escrowAddr = await escrow.getAddress();
  const windowS = Number(await escrow.disputeWindowSeconds());
  const { lumen, quark, keeper, helios, ana, cleo } = ppl;

  // Lease A: 48 h on the vault's rack, opened with a permit for the terms version Lumen read.
  const depositA = w.usd(600);
  const depositB = w.usd(420);
  await w.send("fund lessees (mint test token)", usdc.connect(lumen.wallet).mint(lumen.wallet.address, w.usd(1500)));
  await w.send("fund lessees (mint test token)", usdc.connect(quark.wallet).mint(quark.wallet.address, w.usd(1000)));
  const versionA = await escrow.currentTermsVersion(h100);
  const deadline = BigInt(w.nowS + HOUR);
  const sig = await signPermit(lumen.wallet, await usdc.getAddress(), escrowAddr, depositA, deadline);
  await w.send(
    "open lease with permit",
    escrow
      .connect(lumen.wallet)
      .openLeaseWithPermit(h100, versionA, 48 * HOUR, depositA, deadline, sig.v, sig.r, sig.s),
  );
  const leaseA = {
    id: await escrow.leaseCount(),
    asset: h100,
    lessee: lumen,
    openedWith: "permit" as const,
    paidIn: depositA,
  };
  w.leases.push(leaseA);
  w.say(
    `Lumen AI leases #${h100} for 48 h under terms v${versionA} with an EIP-2612 permit: deposit ${w.fmt(depositA)} (lease #${leaseA.id})`,
  );

  await w.send("open lease (approve)", usdc.connect(quark.wallet).approve(escrowAddr, depositB));
  await w.send(
    "open lease (approve)",
    escrow.connect(quark.wallet).openLease(a100, await escrow.currentTermsVersion(a100), 72 * HOUR, depositB),
  );
  const leaseB = {
    id: await escrow.leaseCount(),
    asset: a100,
    lessee: quark,
    openedWith: "approve" as const,
    paidIn: depositB,
  };
  w.leases.push(leaseB);
  w.say(
    `Quark Labs leases #${a100} for 72 h (approve + open): deposit ${w.fmt(depositB)} (lease #${leaseB.id}); #${w.servers[2].assetId} stays idle`,
  );

  const endA = Number((await escrow.leaseOf(leaseA.id)).endTime);
  let endB = Number((await escrow.leaseOf(leaseB.id)).endTime);
  const at = (h: number) => w.t0 + Math.round(h * HOUR);
  const inHours = (from: number, to: number) => w.nowS >= at(from) && w.nowS < at(to);
  w.setCondition(h100, () =>
    inHours(6, 9) ? { kind: "outage", silentGpus: 4 } : w.nowS < endA ? { kind: "load" } : { kind: "idle" },
  );
  w.setCondition(a100, () =>
    inHours(14, 18) ? { kind: "silent" } : w.nowS < endB ? { kind: "load" } : { kind: "idle" },
  );

  const settleBoth = async (label: string) => {
    for (const l of [leaseA, leaseB]) {
      const line = await w.settle(l.id, keeper);
      w.say(`keeper settles lease #${l.id} ${label}: ${line ?? "nothing billable yet"}`);
    }
  };
  await w.advanceTo(at(48) + windowS, [
    {
      at: at(6),
      run: async () => w.say(`4 of #${h100}'s 8 GPUs go down (they stop reporting) until T+09:00: below its 99 % SLA`),
    },
    { at: at(9), run: async () => w.say(`#${h100} is whole again`) },
    {
      at: at(12),
      run: async () => {
        const topUp = w.usd(400);
        await w.send("top up", usdc.connect(lumen.wallet).approve(escrowAddr, topUp));
        await w.send("top up", escrow.connect(lumen.wallet).topUp(leaseA.id, topUp));
        leaseA.paidIn += topUp;
        w.say(
          `Lumen AI tops up lease #${leaseA.id} with ${w.fmt(topUp)}: its deposits now cover full use for its whole 48 h`,
        );
      },
    },
    {
      at: at(14),
      run: async () =>
        w.say(`#${a100}'s host goes silent: no telemetry, so no operator can prove its GPU-hours until T+18:00`),
    },
    {
      at: at(18),
      run: async () =>
        w.say(`#${a100} reports again; the silent hours stay unproven: unavailable, never billed as used`),
    },
    { at: at(30), run: () => settleBoth(`(readings older than the ${windowS / HOUR} h dispute window)`) },
    {
      at: at(36),
      run: async () => {
        await w.send("end lease early", escrow.connect(quark.wallet).endByLessee(leaseB.id));
        endB = Number((await escrow.leaseOf(leaseB.id)).endTime);
        w.say(
          `Quark Labs ends lease #${leaseB.id} early: the NFT user right is cleared; the lease is billed to now once a reading past now is billable`,
        );
      },
    },
    {
      at: at(48.5),
      run: async () => {
        w.say(`lease #${leaseA.id} reached its end at T+48:00`);
        await settleBoth("(day 2)");
        await harvest(w, vault, keeper, book);
        for (const p of [helios, ana]) await claim(w, vault, p, book);
        const sold = 100n * SHARE;
        await w.send("share transfer", vault.connect(ana.wallet).transfer(cleo.wallet.address, sold));
        w.say(
          `Ana sells ${sold / SHARE} shares to Cleo (the transfer harvests first: Cleo earns only charges settled from now on)`,
        );
      },
    },
    // B ended at T+36: its first reading past the end is billable a dispute window (and a round) later.
    {
      at: at(36) + windowS + POST_MARGIN_S,
      run: async () => w.say(`keeper closes lease #${leaseB.id}: ${await w.close(leaseB.id, keeper)}`),
    },
  ]);
  await w.advanceTo(endA + windowS + POST_MARGIN_S);
  w.say(`keeper closes lease #${leaseA.id}: ${await w.close(leaseA.id, keeper)}`);
  return { leaseA, leaseB };
}

/** How long after a lease's end plus the dispute window the keeper waits: the next reading's post. */
const POST_MARGIN_S = 45 * 60;

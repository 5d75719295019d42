/**
 * The system the access-control test attacks: every deployable contract of `contracts/` (mocks
 * excluded), deployed and wired as in production, with business already done so that every function
 * reaches its access check with realistic arguments: asset 1 (owned by `holder`) has terms (version 1)
 * and a running lease 1 (lessee: a fourth account), asset 2 sits in a revenue-split vault when the
 * factory exists.
 *
 * Contracts are obtained by name, so this file compiles whichever of them exist yet. A contract it
 * does not know is deployed generically by the test (every constructor address = the admin); if that
 * fails, the access-control test fails for that contract and asks for a deployer here.
 */
import fs from "node:fs";
import path from "node:path";
import { artifacts, ethers } from "hardhat";
import type { BaseContract, Contract } from "ethers";
import type { AccessContext } from "./access-context";
import { defaultArguments } from "./abi-surface";

const DAY = 24n * 3600n;

function exists(name: string): boolean {
  try {
    return fs.existsSync(path.join(artifacts.formArtifactPathFromFullyQualifiedName(fqn(name))));
  } catch {
    return false;
  }
}

function fqn(name: string): string {
  return `contracts/${name}.sol:${name}`;
}

async function deploy(name: string, ...args: unknown[]): Promise<Contract> {
  const [admin] = await ethers.getSigners();
  const contract = await (await ethers.getContractFactory(name, admin)).deploy(...args);
  await contract.waitForDeployment();
  return contract as unknown as Contract;
}

function spec(serials: string) {
  return {
    gpuModel: "NVIDIA H100 80GB HBM3",
    datacenter: "eu-west-fra2",
    serialsHash: ethers.id(serials),
    vramMiBPerGpu: 81_559,
    gpuCount: 8,
    tdpWattsPerGpu: 700,
  };
}

export async function systemFixture(): Promise<AccessContext> {
  const [admin, holder, attacker, lessee, signer] = await ethers.getSigners();
  const contracts: Record<string, BaseContract> = {};
  const values: Record<string, unknown> = {};
  const ctx: AccessContext = { admin, holder, attacker, contracts, values, deployErrors: {} };
  if (!exists("GpuAssetNFT")) return ctx;

  const nft = await deploy("GpuAssetNFT", admin.address);
  contracts.GpuAssetNFT = nft;
  for (const role of ["REGISTRAR_ROLE", "PAUSER_ROLE"]) await nft.grantRole(await nft[role](), admin.address);
  await nft.mint(holder.address, spec("server-1"));
  await nft.mint(holder.address, spec("server-2"));
  await nft.mint(holder.address, spec("server-3"));
  values.assetId = 1n;
  values.vaultAssetId = 2n;
  values.looseAssetId = 3n;

  let oracle: Contract | undefined;
  if (exists("UsageOracle")) {
    oracle = await deploy("UsageOracle", admin.address, await nft.getAddress(), [signer.address], 1, 300, 1000);
    contracts.UsageOracle = oracle;
  }

  if (exists("SettlementEscrow") && oracle) {
    const escrow = await deploy(
      "SettlementEscrow",
      admin.address,
      await nft.getAddress(),
      await oracle.getAddress(),
      DAY,
      3n * DAY,
    );
    contracts.SettlementEscrow = escrow;
    for (const role of ["TOKEN_ADMIN_ROLE", "ARBITER_ROLE", "PAUSER_ROLE"]) {
      await escrow.grantRole(await escrow[role](), admin.address);
    }
    await nft.grantRole(await nft.LEASE_MANAGER_ROLE(), await escrow.getAddress());
    const usdc = await deploy("MockUSDC");
    values.usdc = usdc;
    await escrow.setTokenAllowed(await usdc.getAddress(), true);
    const terms = {
      token: await usdc.getAddress(),
      reservationPricePerGpuHour: 2_000_000n,
      usagePricePerBusyGpuHour: 1_000_000n,
      energyPricePerKWh: 0n,
      minDurationSeconds: 3600n,
      maxDurationSeconds: 7n * DAY,
      slaAvailabilityBps: 9500,
      earlyEndAllowed: true,
    };
    values.terms = { ...terms, reservationPricePerGpuHour: 3_000_000n };
    await (escrow.connect(holder) as Contract).setLeaseTerms(1n, terms);
    const deposit = await escrow.minimumDeposit(1n);
    await usdc.mint(lessee.address, deposit);
    await (usdc.connect(lessee) as Contract).approve(await escrow.getAddress(), deposit);
    await (escrow.connect(lessee) as Contract).openLease(1n, 1n, 2n * DAY, deposit);
    values.leaseId = 1n;

    if (exists("RevenueSplitVaultFactory")) {
      const factory = await deploy("RevenueSplitVaultFactory", await nft.getAddress(), await escrow.getAddress());
      contracts.RevenueSplitVaultFactory = factory;
      // Worst case for the factory: the holder approved it for all its assets.
      await (nft.connect(holder) as Contract).setApprovalForAll(await factory.getAddress(), true);
      const shares = 1_000n * 10n ** 18n;
      const factoryAsHolder = factory.connect(holder) as Contract;
      const args = [2n, await usdc.getAddress(), holder.address, [holder.address], [shares]] as const;
      const vaultAddress: string = await factoryAsHolder.createVault.staticCall(...args);
      await factoryAsHolder.createVault(...args);
      contracts.RevenueSplitVault = await ethers.getContractAt("RevenueSplitVault", vaultAddress);
      values.vaultShares = shares;
      values.vaultTerms = { ...terms };
    }

    if (exists("DemandResponseProgramme")) {
      // Programme 1, sponsored by the admin, in the lease token, with asset 1 enrolled.
      const programme = await deploy("DemandResponseProgramme", admin.address, await oracle.getAddress());
      contracts.DemandResponseProgramme = programme;
      for (const role of ["SPONSOR_ROLE", "PAUSER_ROLE"])
        await programme.grantRole(await programme[role](), admin.address);
      await escrow.grantRole(await escrow.PROGRAMME_ROLE(), await programme.getAddress());
      await programme.createProgramme(await usdc.getAddress());
      await programme.enroll(1, 1n);
      values.curtailment = {
        programme: await programme.getAddress(),
        programmeId: 1,
        reservationDiscountBps: 1_000,
        maxEventsPerLease: 2,
        maxEventSecondsPerLease: 4 * 3600,
      };
    }

    if (await artifacts.artifactExists("CreditFacility")) {
      // Loan 1: asset 4 pledged by the holder, funded by the admin (the note's holder); loan 2: asset 5,
      // pledged and not funded.
      const facility = await deploy("CreditFacility", admin.address, await nft.getAddress(), await escrow.getAddress());
      contracts.CreditFacility = facility;
      await facility.grantRole(await facility.PAUSER_ROLE(), admin.address);
      await nft.mint(holder.address, spec("server-4"));
      await nft.mint(holder.address, spec("server-5"));
      await (nft.connect(holder) as Contract).setApprovalForAll(await facility.getAddress(), true);
      const creditTerms = {
        token: await usdc.getAddress(),
        principal: 1_000_000_000n,
        reserveTarget: 0n,
        interestRateBpsPerYear: 1_000n,
        periodSeconds: DAY,
        periodCount: 3n,
        amortizationPeriods: 3n,
        graceSeconds: 3600n,
      };
      const facilityAsHolder = facility.connect(holder) as Contract;
      await facilityAsHolder.pledge(4n, creditTerms);
      await usdc.mint(admin.address, creditTerms.principal);
      await usdc.approve(await facility.getAddress(), creditTerms.principal);
      await facility.fund(1n);
      await facilityAsHolder.pledge(5n, creditTerms);
      contracts.CreditCustody = await ethers.getContractAt("CreditCustody", await facility.custodyOf(1n));
      contracts.LoanNote = await ethers.getContractAt("LoanNote", await facility.note());
      values.creditTerms = creditTerms;
      values.creditToken = await usdc.getAddress();
      values.creditAssetId = 4n;
      values.creditLoanId = 1n;
      values.requestedLoanId = 2n;
      values.noteHolder = admin.address;
      values.custodyTerms = { ...terms, energyPricePerKWh: 0n };
    }
  }
  return ctx;
}

/** Deploys `name` with arguments generated from its constructor's types; the admin for every address. */
export async function genericDeploy(name: string, ctx: AccessContext): Promise<BaseContract> {
  const factory = await ethers.getContractFactory(name, ctx.admin);
  const contract = await factory.deploy(...defaultArguments(factory.interface.deploy, ctx.admin.address));
  await contract.waitForDeployment();
  return contract;
}

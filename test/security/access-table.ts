/**
 * The reviewed access table: every state-changing function of every deployable, non-mock contract
 * in `contracts/` appears here exactly once, either as RESTRICTED (an account without any role must be
 * refused with the stated error) or as PERMISSIONLESS (anyone may call it, with the reason why that
 * is safe). test/security/access-control.test.ts fails for any function on neither list, on both, and
 * for any entry that no longer matches a function.
 *
 * Keys: `Contract.name` (or `Contract.signature` for overloaded names); `*.name` covers a function
 * inherited by several contracts (AccessControl, ERC-721, ERC-20).
 *
 * Adding a function to a contract? Add it here in the same change, and think about which list it is on.
 */
import { ethers } from "ethers";
import { encodeReadings } from "../../src/eip712";
import { ABSENT_BOUNDARY } from "../../src/meterHistory";
import type { AccessContext } from "./access-context";

type Args = (ctx: AccessContext) => unknown[] | Promise<unknown[]>;

export interface RestrictedEntry {
  /** Who may call it, in a few words (documentation for reviewers). */
  who: string;
  /**
   * The AccessControl role getter (e.g. `REGISTRAR_ROLE`, `DEFAULT_ADMIN_ROLE`): the call must revert
   * `AccessControlUnauthorizedAccount(attacker, role)`.
   */
  role?: string;
  /** Otherwise the custom error the call must revert with… */
  error?: string;
  /** …and its arguments (required when the error has any). */
  errorArgs?: Args;
  /** The contract whose ABI declares `error`, when it bubbles up from a callee. */
  errorFrom?: string;
  /** Call arguments; by default generated from the ABI (addresses = the fixture's holder, numbers = 1). */
  args?: Args;
}

export interface PermissionlessEntry {
  /** Why anyone may call it: one line. */
  reason: string;
}

const attacker = (ctx: AccessContext) => ctx.attacker.address;
const assetId = (ctx: AccessContext) => ctx.values.assetId as bigint;
const leaseId = (ctx: AccessContext) => ctx.values.leaseId as bigint;

export const RESTRICTED: Record<string, RestrictedEntry> = {
  // ---- AccessControl, inherited by every role-administered contract
  "*.grantRole": { who: "the role's admin", role: "DEFAULT_ADMIN_ROLE" },
  "*.revokeRole": { who: "the role's admin", role: "DEFAULT_ADMIN_ROLE" },
  "*.renounceRole": {
    who: "only the account itself",
    error: "AccessControlBadConfirmation",
    args: (ctx) => [ethers.ZeroHash, ctx.admin.address],
  },
  "*.pause": { who: "pauser", role: "PAUSER_ROLE" },
  "*.unpause": { who: "pauser", role: "PAUSER_ROLE" },

  // ---- GpuAssetNFT
  "GpuAssetNFT.mint": { who: "registrar", role: "REGISTRAR_ROLE" },
  "GpuAssetNFT.updateSpec": { who: "registrar", role: "REGISTRAR_ROLE" },
  "GpuAssetNFT.setStatus": { who: "registrar", role: "REGISTRAR_ROLE", args: (ctx) => [assetId(ctx), 1] },
  "GpuAssetNFT.setUser": { who: "lease manager (the escrow)", role: "LEASE_MANAGER_ROLE" },
  "GpuAssetNFT.burn": {
    who: "the owner or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [assetId(ctx)],
    errorArgs: (ctx) => [attacker(ctx), assetId(ctx)],
  },
  "GpuAssetNFT.approve": {
    who: "the owner or an operator",
    error: "ERC721InvalidApprover",
    args: (ctx) => [attacker(ctx), assetId(ctx)],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "GpuAssetNFT.transferFrom": {
    who: "the owner or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.holder.address, attacker(ctx), assetId(ctx)],
    errorArgs: (ctx) => [attacker(ctx), assetId(ctx)],
  },
  "GpuAssetNFT.safeTransferFrom(address,address,uint256)": {
    who: "the owner or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.holder.address, attacker(ctx), assetId(ctx)],
    errorArgs: (ctx) => [attacker(ctx), assetId(ctx)],
  },
  "GpuAssetNFT.safeTransferFrom(address,address,uint256,bytes)": {
    who: "the owner or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.holder.address, attacker(ctx), assetId(ctx), "0x"],
    errorArgs: (ctx) => [attacker(ctx), assetId(ctx)],
  },

  // ---- UsageOracle
  "UsageOracle.setSigners": { who: "oracle admin", role: "ORACLE_ADMIN_ROLE" },
  "UsageOracle.setMaxFutureSkew": { who: "oracle admin", role: "ORACLE_ADMIN_ROLE" },
  "UsageOracle.setEnergyMargin": { who: "oracle admin", role: "ORACLE_ADMIN_ROLE" },
  "UsageOracle.submit": {
    who: "anyone may transmit, but only a quorum of current signers can sign: a batch the attacker signed is refused",
    error: "UnknownSigner",
    args: async (ctx) => {
      const oracle = ctx.contracts.UsageOracle;
      const version: bigint = await oracle.getFunction("configVersion").staticCall();
      const batchIndex: bigint = await oracle.getFunction("nextBatchIndex").staticCall();
      const now = BigInt((await ctx.admin.provider.getBlock("latest"))!.timestamp);
      // One well-formed packed reading of asset 1 (its first), signed by a key that is no signer.
      const reading = {
        assetId: assetId(ctx),
        previousBatch: 0n,
        busyGpuSeconds: 0n,
        availableGpuSeconds: 0n,
        energyJ: 0n,
      };
      const readings = encodeReadings([reading]);
      const root: string = await oracle.getFunction("readingsRoot").staticCall(readings);
      const digest: string = await oracle.getFunction("batchDigest").staticCall(version, batchIndex, now, root);
      const forger = ethers.Wallet.createRandom();
      ctx.values.forger = forger.address;
      return [version, batchIndex, now, readings, forger.signingKey.sign(digest).serialized];
    },
    errorArgs: (ctx) => [ctx.values.forger],
  },

  // ---- SettlementEscrow
  "SettlementEscrow.setTokenAllowed": { who: "token admin", role: "TOKEN_ADMIN_ROLE" },
  "SettlementEscrow.resolveDispute": {
    who: "arbiter",
    role: "ARBITER_ROLE",
    args: (ctx) => [leaseId(ctx), 0n],
  },
  "SettlementEscrow.setLeaseTerms": {
    who: "the asset's owner or its approved operator",
    error: "NotAssetOperator",
    args: (ctx) => [assetId(ctx), ctx.values.terms],
    errorArgs: (ctx) => [assetId(ctx), attacker(ctx)],
  },
  "SettlementEscrow.removeLeaseTerms": {
    who: "the asset's owner or its approved operator",
    error: "NotAssetOperator",
    args: (ctx) => [assetId(ctx)],
    errorArgs: (ctx) => [assetId(ctx), attacker(ctx)],
  },
  "SettlementEscrow.terminateByProvider": {
    who: "the asset's owner or its approved operator",
    error: "NotAssetOperator",
    args: (ctx) => [leaseId(ctx)],
    errorArgs: (ctx) => [assetId(ctx), attacker(ctx)],
  },
  "SettlementEscrow.endByLessee": {
    who: "the lessee",
    error: "NotLessee",
    args: (ctx) => [leaseId(ctx)],
    errorArgs: (ctx) => [leaseId(ctx), attacker(ctx)],
  },
  "SettlementEscrow.dispute": {
    who: "the lessee",
    error: "NotLessee",
    args: (ctx) => [leaseId(ctx), ABSENT_BOUNDARY, ABSENT_BOUNDARY],
    errorArgs: (ctx) => [leaseId(ctx), attacker(ctx)],
  },

  // ---- RevenueSplitVault (attacked through a live clone holding asset 2; the holder owns every share)
  "RevenueSplitVault.initialize": {
    who: "the factory, once, in the creating transaction",
    error: "CallerNotFactory",
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "RevenueSplitVault.setLeaseTerms": {
    who: "the vault's manager",
    error: "CallerNotManager",
    args: (ctx) => [ctx.values.vaultTerms],
    errorArgs: (ctx) => [attacker(ctx), ctx.holder.address],
  },
  "RevenueSplitVault.claim": {
    who: "a holder, for its own accrued revenue",
    error: "NothingToClaim",
    args: (ctx) => [attacker(ctx)],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "RevenueSplitVault.redeem": {
    who: "a holder of the entire supply",
    error: "NotWholeSupply",
    args: (ctx) => [attacker(ctx)],
    errorArgs: (ctx) => [attacker(ctx), 0n, ctx.values.vaultShares],
  },
  "RevenueSplitVault.transfer": {
    who: "a holder, of its own shares",
    error: "ERC20InsufficientBalance",
    args: (ctx) => [attacker(ctx), 1n],
    errorArgs: (ctx) => [attacker(ctx), 0n, 1n],
  },
  "RevenueSplitVault.transferFrom": {
    who: "a spender the holder approved",
    error: "ERC20InsufficientAllowance",
    args: (ctx) => [ctx.holder.address, attacker(ctx), 1n],
    errorArgs: (ctx) => [attacker(ctx), 0n, 1n],
  },
  "RevenueSplitVault.permit": {
    who: "anyone may submit, but only the owner's signature counts: a permit the attacker signed is refused",
    error: "ERC2612InvalidSigner",
    args: async (ctx) => {
      const vault = ctx.contracts.RevenueSplitVault;
      const domain = await vault.getFunction("eip712Domain").staticCall();
      const deadline = 2n ** 40n;
      const value = ctx.values.vaultShares as bigint;
      const signature = await ctx.attacker.signTypedData(
        { name: domain[1], version: domain[2], chainId: domain[3], verifyingContract: domain[4] },
        {
          Permit: [
            { name: "owner", type: "address" },
            { name: "spender", type: "address" },
            { name: "value", type: "uint256" },
            { name: "nonce", type: "uint256" },
            { name: "deadline", type: "uint256" },
          ],
        },
        { owner: ctx.holder.address, spender: attacker(ctx), value, nonce: 0n, deadline },
      );
      const { v, r, s } = ethers.Signature.from(signature);
      return [ctx.holder.address, attacker(ctx), value, deadline, v, r, s];
    },
    errorArgs: (ctx) => [attacker(ctx), ctx.holder.address],
  },

  // ---- RevenueSplitVaultFactory
  "RevenueSplitVaultFactory.createVault": {
    who: "the asset's owner (the NFT refuses anyone else, even when the owner approved the factory for all)",
    error: "ERC721IncorrectOwner",
    errorFrom: "GpuAssetNFT",
    args: (ctx) => [ctx.values.looseAssetId, ctx.values.usdc, attacker(ctx), [attacker(ctx)], [1n]],
    errorArgs: (ctx) => [attacker(ctx), ctx.values.looseAssetId, ctx.holder.address],
  },

  // ---- CreditFacility (loan 1: asset 4 pledged by the holder and funded by the admin; loan 2: asset 5, requested)
  "CreditFacility.pledge": {
    who: "the asset's owner",
    error: "NotAssetOwner",
    args: (ctx) => [ctx.values.looseAssetId, ctx.values.creditTerms],
    errorArgs: (ctx) => [ctx.values.looseAssetId, attacker(ctx)],
  },
  "CreditFacility.cancel": {
    who: "the borrower, before funding",
    error: "NotBorrower",
    args: (ctx) => [ctx.values.requestedLoanId],
    errorArgs: (ctx) => [ctx.values.requestedLoanId, attacker(ctx)],
  },
  "CreditFacility.claimAsBorrower": {
    who: "the borrower",
    error: "NotBorrower",
    args: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },
  "CreditFacility.collectToken": {
    who: "the borrower (the note's holder once foreclosed)",
    error: "NotBorrower",
    args: (ctx) => [ctx.values.creditLoanId, attacker(ctx), attacker(ctx)],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },
  "CreditFacility.claimAsLender": {
    who: "the note's holder or its approved operator",
    error: "NotNoteHolder",
    args: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },
  "CreditFacility.foreclose": {
    who: "the note's holder or its approved operator, and only in default",
    error: "NotNoteHolder",
    args: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },

  // ---- CreditCustody (the custody clone of loan 1)
  "CreditCustody.withdrawRevenue": {
    who: "the facility",
    error: "CallerNotFacility",
    args: (ctx) => [ctx.values.creditToken, attacker(ctx)],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "CreditCustody.releaseAsset": {
    who: "the facility",
    error: "CallerNotFacility",
    args: (ctx) => [ctx.values.creditAssetId, attacker(ctx), true],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "CreditCustody.setLeaseTerms": {
    who: "the loan's parties: the borrower, and once funded the note's side too",
    error: "NotLoanParty",
    args: (ctx) => [ctx.values.creditLoanId, ctx.values.custodyTerms],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },
  "CreditCustody.removeLeaseTerms": {
    who: "the loan's parties: the borrower, and once funded the note's side too",
    error: "NotLoanParty",
    args: (ctx) => [ctx.values.creditLoanId],
    errorArgs: (ctx) => [ctx.values.creditLoanId, attacker(ctx)],
  },

  // ---- LoanNote (note 1, held by the admin)
  "LoanNote.mint": {
    who: "the facility",
    error: "CallerNotFacility",
    args: (ctx) => [attacker(ctx), 99n],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "LoanNote.approve": {
    who: "the note's holder or an operator",
    error: "ERC721InvalidApprover",
    args: (ctx) => [attacker(ctx), ctx.values.creditLoanId],
    errorArgs: (ctx) => [attacker(ctx)],
  },
  "LoanNote.transferFrom": {
    who: "the note's holder or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.values.noteHolder, attacker(ctx), ctx.values.creditLoanId],
    errorArgs: (ctx) => [attacker(ctx), ctx.values.creditLoanId],
  },
  "LoanNote.safeTransferFrom(address,address,uint256)": {
    who: "the note's holder or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.values.noteHolder, attacker(ctx), ctx.values.creditLoanId],
    errorArgs: (ctx) => [attacker(ctx), ctx.values.creditLoanId],
  },
  "LoanNote.safeTransferFrom(address,address,uint256,bytes)": {
    who: "the note's holder or an approved operator",
    error: "ERC721InsufficientApproval",
    args: (ctx) => [ctx.values.noteHolder, attacker(ctx), ctx.values.creditLoanId, "0x"],
    errorArgs: (ctx) => [attacker(ctx), ctx.values.creditLoanId],
  },

  // ---- DemandResponseProgramme (programme 1: the admin is its sponsor; asset 1 enrolled)
  "DemandResponseProgramme.createProgramme": { who: "a sponsor", role: "SPONSOR_ROLE" },
  "DemandResponseProgramme.enroll": { who: "a sponsor (of its own programme)", role: "SPONSOR_ROLE" },
  "DemandResponseProgramme.announce": { who: "a sponsor (of its own programme)", role: "SPONSOR_ROLE" },
  "DemandResponseProgramme.withdrawFunds": {
    who: "the programme's sponsor",
    error: "NotSponsor",
    args: (ctx) => [1, 1n, attacker(ctx)],
    errorArgs: (ctx) => [1, attacker(ctx)],
  },
  "DemandResponseProgramme.removeMember": {
    who: "the programme's sponsor",
    error: "NotSponsor",
    args: (ctx) => [1, assetId(ctx)],
    errorArgs: (ctx) => [1, attacker(ctx)],
  },
  "DemandResponseProgramme.cancel": {
    who: "the programme's sponsor",
    error: "NotSponsor",
    args: () => [1, 1],
    errorArgs: (ctx) => [1, attacker(ctx)],
  },
  "DemandResponseProgramme.setLesseeShare": {
    who: "the asset's owner or its approved operator",
    error: "NotAssetOperator",
    args: (ctx) => [1, assetId(ctx), 1],
    errorArgs: (ctx) => [assetId(ctx), attacker(ctx)],
  },
  "SettlementEscrow.setCurtailableLeaseTerms": {
    who: "the asset's owner or its approved operator",
    error: "NotAssetOperator",
    args: (ctx) => [assetId(ctx), { energyPricePerKWh: 0n, ...(ctx.values.terms as object) }, ctx.values.curtailment],
    errorArgs: (ctx) => [assetId(ctx), attacker(ctx)],
  },
};

export const PERMISSIONLESS: Record<string, PermissionlessEntry> = {
  "GpuAssetNFT.setApprovalForAll": { reason: "sets approvals over the caller's own tokens only (ERC-721)" },

  "SettlementEscrow.openLease": { reason: "anyone may rent a leasable asset; the caller pays its own deposit" },
  "SettlementEscrow.openLeaseWithPermit": { reason: "openLease with the caller's own EIP-2612 permit" },
  "SettlementEscrow.topUp": { reason: "adds the caller's own tokens to a lease; leftovers go to the lessee" },
  "SettlementEscrow.settle": {
    reason:
      "bills the lease's bill between Merkle-proven, quorum-signed meters past the dispute window; a pure function of the meters, so the caller chooses nothing",
  },
  "SettlementEscrow.close": {
    reason:
      "bills an ended lease up to its end from the proven meters and refunds the rest (needs the first reading at or after the end, or the grace period)",
  },
  "SettlementEscrow.closeUnderfunded": {
    reason:
      "ends only a lease whose deposits cannot cover full use to its end or to an hour from now: a pure function of time and deposits",
  },
  "SettlementEscrow.resolveDisputeByTimeout": {
    reason: "applies the documented default once the arbiter's deadline passed",
  },
  "SettlementEscrow.withdraw": { reason: "pays the caller's own withdrawable balance, nobody else's" },

  "CreditFacility.fund": {
    reason: "anyone may fund a requested loan at its posted terms, paying the principal itself for the note",
  },
  "CreditFacility.harvest": {
    reason: "moves the custody's escrow balance through the loan's fixed waterfall; caller gains nothing",
  },
  "CreditFacility.repay": { reason: "pays the caller's own tokens toward the loan's debt; only the borrower gains" },
  "LoanNote.setApprovalForAll": { reason: "sets approvals over the caller's own notes only (ERC-721)" },

  "DemandResponseProgramme.deposit": {
    reason: "adds the caller's own tokens to a programme's deposit; only its sponsor withdraws the unreserved part",
  },
  "DemandResponseProgramme.checkIn": {
    reason:
      "records the asset's current NFT user during a running event; the first check-in stands and the share is the owner's",
  },
  "DemandResponseProgramme.proveReduction": {
    reason:
      "records an outcome computed from Merkle-proven, quorum-signed meters at fixed boundaries; the caller chooses nothing",
  },
  "DemandResponseProgramme.proveReductions": { reason: "proveReduction for several assets of one event" },
  "DemandResponseProgramme.claimOwnerCredit": {
    reason:
      "pays an owed credit's owner part to the NFT's owner (back to the sponsor for a burned asset); the caller gains nothing",
  },
  "DemandResponseProgramme.claimLesseeCredit": {
    reason: "pays an owed credit's lessee part to the lessee that checked in; the caller gains nothing",
  },
  "DemandResponseProgramme.release": {
    reason: "returns an expired event's unclaimed reservation to its sponsor's unreserved funds",
  },

  "RevenueSplitVault.approve": { reason: "sets the caller's own allowance (ERC-20)" },
  "RevenueSplitVault.harvest": {
    reason: "moves the vault's escrow balance into the pro-rata index; caller gains nothing",
  },
};

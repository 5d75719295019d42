// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20Metadata } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { IGpuAssetNFT } from "./IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./ISettlementEscrow.sol";
import { LeaseTerms } from "../types/EscrowTypes.sol";

/// @title IRevenueSplitVault — fractional ownership of one GPU asset with O(1) revenue distribution
/// @notice Holds one GpuAssetNFT and issues a fixed supply of ERC-20 shares (EIP-2612 permit). As the
/// NFT's owner the vault is the escrow's payee: `harvest` pulls its escrow balance and raises a
/// revenue-per-share index; each holder `claim`s its pro-rata part. Every share balance change
/// settles both sides first, so shares carry no claim on revenue harvested before they arrived and
/// keep none after they leave. A share transfer first harvests any revenue the escrow holds for the
/// vault, so buying shares never buys revenue already credited to the vault. A holder of the entire
/// supply may `redeem` the NFT.
/// @dev Deployed only as an EIP-1167 clone by RevenueSplitVaultFactory, which initializes it in the
/// same transaction. Per-vault configuration (asset id, revenue token, manager) lives in the clone's
/// immutable arguments, not in storage. All gas costs are independent of the number of holders.
/// Warning: revenue follows the address that holds the shares. A lending market, AMM pool or any
/// other contract holding shares accrues their revenue, not the user who deposited them.
interface IRevenueSplitVault is IERC20Metadata, IERC20Permit {
    /// @notice Raised when anyone but the factory calls `initialize`.
    /// @param caller The caller.
    error CallerNotFactory(address caller);

    /// @notice Raised when `initialize` is called on a vault that already has shares.
    /// @param totalShares The existing supply.
    error AlreadyInitialized(uint256 totalShares);

    /// @notice Raised when `initialize` gets holder and amount lists of different lengths, or none.
    /// @param holders Length of the holder list.
    /// @param amounts Length of the amount list.
    error InvalidAllocation(uint256 holders, uint256 amounts);

    /// @notice Raised when an initial allocation gives a holder zero shares.
    /// @param holder The holder.
    error ZeroShareAllocation(address holder);

    /// @notice Raised when anyone but the manager tries to set lease terms.
    /// @param caller The caller.
    /// @param manager The vault's manager.
    error CallerNotManager(address caller, address manager);

    /// @notice Raised when lease terms name another token than the vault's revenue token.
    /// @param termsToken The token in the terms.
    /// @param revenueToken The vault's revenue token.
    error TermsTokenNotRevenueToken(address termsToken, address revenueToken);

    /// @notice Raised when lease terms price both reservation and usage at zero (a free lease).
    error FreeLeaseTerms();

    /// @notice Raised by `harvest` when there is no new revenue to distribute.
    error NothingToHarvest();

    /// @notice Raised by `harvest` when the shares are burnt and nobody redeemed (cannot happen after
    /// a regular initialization; kept so revenue can never be distributed over zero shares).
    error NoShareholders();

    /// @notice Raised by `claim` when the caller has no whole base unit to claim.
    /// @param account The caller.
    error NothingToClaim(address account);

    /// @notice Raised when a payout or the NFT would go to the zero address.
    /// @param to The recipient given.
    error InvalidRecipient(address to);

    /// @notice Raised by `redeem` when the caller does not hold the entire supply.
    /// @param account The caller.
    /// @param shares The caller's shares.
    /// @param totalShares The supply.
    error NotWholeSupply(address account, uint256 shares, uint256 totalShares);

    /// @notice Emitted when revenue is distributed over the shares.
    /// @param caller Who harvested.
    /// @param amount Revenue distributed, in revenue-token base units.
    /// @param revenuePerShareScaled The index after (scaled by `PRECISION`).
    /// @param carryScaled The undistributed remainder after (scaled; less than one base unit).
    event RevenueHarvested(address indexed caller, uint256 amount, uint256 revenuePerShareScaled, uint256 carryScaled);

    /// @notice Emitted when a holder claims its revenue.
    /// @param account The holder.
    /// @param to The recipient.
    /// @param amount Amount paid, in revenue-token base units.
    event RevenueClaimed(address indexed account, address indexed to, uint256 amount);

    /// @notice Emitted when a holder of the entire supply burns it and takes the NFT out.
    /// @param account The holder.
    /// @param to Recipient of the NFT.
    /// @param assetId The asset.
    /// @param shares Shares burnt (the entire supply).
    event Redeemed(address indexed account, address indexed to, uint256 indexed assetId, uint256 shares);

    /// @notice Mints the initial supply. Factory only, once, in the transaction that creates the clone.
    /// @param holders Initial holders (non-zero addresses; repeats add up).
    /// @param amounts Shares of each holder (non-zero); their sum is the fixed supply (< 2^96).
    function initialize(address[] calldata holders, uint256[] calldata amounts) external;

    /// @notice Publishes or replaces the asset's lease terms in the escrow, as the NFT's owner.
    /// Manager only. The terms' token must be the revenue token and at least one price non-zero.
    /// @dev The escrow validates the rest and emits the event. This is the manager's only power.
    /// @param terms The terms.
    function setLeaseTerms(LeaseTerms calldata terms) external;

    /// @notice Withdraws the vault's escrow balance of the revenue token and distributes every
    /// revenue-token unit the vault holds beyond what it owes holders. Anyone may call.
    /// @dev Distributes the vault's balance increase (a direct transfer to the vault is revenue too),
    /// so a token that delivers less than the escrow reports can never over-credit holders.
    /// @return amount Revenue distributed, in base units.
    function harvest() external returns (uint256 amount);

    /// @notice Pays the caller's whole claimable revenue to `to`. Never blocked by other holders.
    /// @dev Pays whole base units (rounded down); the caller's sub-unit remainder joins the carry
    /// (`undistributedScaled`) and goes to all holders with the next harvest.
    /// @param to Recipient (a holder blocklisted by the token can name another address).
    /// @return amount Amount paid, in base units.
    function claim(address to) external returns (uint256 amount);

    /// @notice Burns the entire supply (the caller must hold all of it) and sends the NFT to `to`.
    /// Harvests first, so the caller keeps every unit earned until now and can still `claim` it.
    /// A live lease continues: the lessee's user right survives the transfer.
    /// @param to Recipient of the NFT (safe transfer).
    function redeem(address to) external;

    /// @notice The factory that created this vault.
    /// @return The factory.
    function factory() external view returns (address);

    /// @notice The GPU asset NFT contract.
    /// @return The NFT.
    function nft() external view returns (IGpuAssetNFT);

    /// @notice The settlement escrow that pays this vault.
    /// @return The escrow.
    function escrow() external view returns (ISettlementEscrow);

    /// @notice The asset this vault holds (or held, once redeemed).
    /// @return The asset id.
    function assetId() external view returns (uint256);

    /// @notice The one token revenue is harvested and claimed in.
    /// @return The token.
    function revenueToken() external view returns (address);

    /// @notice The account that may set lease terms (fixed at creation).
    /// @return The manager.
    function manager() external view returns (address);

    /// @notice Whole base units `account` can claim now (excluding unharvested escrow revenue).
    /// @param account The holder.
    /// @return Amount in base units.
    function claimable(address account) external view returns (uint256);

    /// @notice The exact entitlement of `account`, scaled by `PRECISION`; `claimable` is its integer
    /// part. The rest (under one base unit) stays the holder's until it claims, when it joins the carry.
    /// @param account The holder.
    /// @return Entitlement, scaled.
    function accruedScaled(address account) external view returns (uint256);

    /// @notice The cumulative revenue per share, scaled by `PRECISION`.
    /// @return The index.
    function revenuePerShareScaled() external view returns (uint256);

    /// @notice Revenue harvested but not yet assigned to anyone (the accumulator's carry), scaled by
    /// `PRECISION`: the division remainder of the last harvest (under supply / 1e30 base units, i.e.
    /// under 0.08 of a unit) plus the sub-unit remainders of claims since then (each under one unit).
    /// The next harvest hands it out with the new revenue.
    /// @return The carry, scaled.
    function undistributedScaled() external view returns (uint256);

    /// @notice Revenue distributed since creation, in base units.
    /// @return The total.
    function totalHarvested() external view returns (uint256);

    /// @notice Revenue paid out by `claim` since creation, in base units.
    /// @return The total.
    function totalClaimed() external view returns (uint256);

    /// @notice Revenue the escrow holds for the vault and the next `harvest` would withdraw.
    /// @return Amount in base units.
    function pendingHarvest() external view returns (uint256);

    /// @notice Who redeemed the NFT; zero while the vault holds it. Revenue that still reaches the
    /// vault after the redemption is credited to this account.
    /// @return The redeemer.
    function redeemedBy() external view returns (address);

    /// @notice Scale of the revenue index and of scaled amounts: 1e30 scaled units = 1 base unit.
    /// @return The precision.
    // solhint-disable-next-line func-name-mixedcase
    function PRECISION() external view returns (uint256);
}

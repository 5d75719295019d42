// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC20Metadata } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Metadata.sol";
import { IERC20Permit } from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { Clones } from "@openzeppelin/contracts/proxy/Clones.sol";
import { SafeCast } from "@openzeppelin/contracts/utils/math/SafeCast.sol";
import { Strings } from "@openzeppelin/contracts/utils/Strings.sol";
import { ReentrancyGuardTransient } from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";
import { ERC20Upgradeable } from "@openzeppelin/contracts-upgradeable/token/ERC20/ERC20Upgradeable.sol";
import { ERC20PermitUpgradeable } from "@openzeppelin/contracts-upgradeable/token/ERC20/extensions/ERC20PermitUpgradeable.sol";
import { IRevenueSplitVault } from "./interfaces/IRevenueSplitVault.sol";
import { IGpuAssetNFT } from "./interfaces/IGpuAssetNFT.sol";
import { ISettlementEscrow } from "./interfaces/ISettlementEscrow.sol";
import { LeaseTerms } from "./types/EscrowTypes.sol";
import { RevenueShareMath } from "./libraries/RevenueShareMath.sol";

/// @title RevenueSplitVault
/// @notice Fractional ownership of one GPU asset: ERC-20 shares with EIP-2612 permit, revenue from the
/// settlement escrow distributed through a revenue-per-share index. See IRevenueSplitVault.
/// @dev Share balances are kept here, packed with each holder's index snapshot in one slot
/// (`_update` is overridden without calling the parent, so OpenZeppelin's balance and supply storage
/// stays unused). Name, symbol and the EIP-712 name are derived from the asset id, and the per-vault
/// configuration is read from the clone's immutable arguments: creating a vault writes no strings.
contract RevenueSplitVault is IRevenueSplitVault, ERC20PermitUpgradeable, ReentrancyGuardTransient {
    using SafeERC20 for IERC20;
    using SafeCast for uint256;

    /// @notice Per-holder state: shares and the index at the holder's last settlement.
    struct Holder {
        // slot 0
        uint96 shares;
        uint160 revenuePerShareScaled;
    }

    /// @notice The index and the supply: read by every transfer, written by harvests.
    struct Accumulator {
        // slot 0
        uint160 revenuePerShareScaled;
        uint96 totalShares;
    }

    /// @notice What claims write: the undistributed carry (which also takes each claimer's sub-unit
    /// remainder, so a claim writes no per-holder slot) and the claimed total.
    struct Ledger {
        // slot 0
        uint128 carryScaled; // < totalShares + (claims since the last harvest) × PRECISION
        uint128 totalClaimed; // base units
    }

    /// @inheritdoc IRevenueSplitVault
    uint256 public constant PRECISION = RevenueShareMath.PRECISION;

    /// @inheritdoc IRevenueSplitVault
    address public immutable factory;
    /// @inheritdoc IRevenueSplitVault
    IGpuAssetNFT public immutable nft;
    /// @inheritdoc IRevenueSplitVault
    ISettlementEscrow public immutable escrow;

    Accumulator private _accumulator;
    Ledger private _ledger;
    uint256 private _totalHarvested;
    address private _redeemer;
    mapping(address account => Holder) private _holders;
    mapping(address account => uint256 accruedScaled) private _accruedScaled;

    /// @notice Deploys the implementation (the factory does this once; clones share its code).
    /// @param nft_ The GPU asset NFT.
    /// @param escrow_ The settlement escrow.
    constructor(IGpuAssetNFT nft_, ISettlementEscrow escrow_) {
        factory = msg.sender;
        nft = nft_;
        escrow = escrow_;
        _disableInitializers();
    }

    /// @dev The implementation and every clone accept ERC-721 transfers from the NFT only through
    /// the factory's plain `transferFrom`, so no `onERC721Received` is needed.

    /// @inheritdoc IRevenueSplitVault
    /// @dev Not guarded by `initializer` (a 22k-gas storage write): only the factory may call, and a
    /// non-zero supply marks the vault initialized.
    function initialize(address[] calldata holders, uint256[] calldata amounts) external {
        // Checks
        if (msg.sender != factory) revert CallerNotFactory(msg.sender);
        uint256 existing = _accumulator.totalShares;
        if (existing != 0) revert AlreadyInitialized(existing);
        uint256 count = holders.length;
        if (count == 0 || count != amounts.length) revert InvalidAllocation(count, amounts.length);
        // Effects
        for (uint256 i = 0; i < count; ++i) {
            if (amounts[i] == 0) revert ZeroShareAllocation(holders[i]);
            _mint(holders[i], amounts[i]);
        }
    }

    /// @inheritdoc IRevenueSplitVault
    function setLeaseTerms(LeaseTerms calldata terms) external {
        // Checks
        (uint256 id, address token, address manager_) = _config();
        if (msg.sender != manager_) revert CallerNotManager(msg.sender, manager_);
        if (terms.token != token) revert TermsTokenNotRevenueToken(terms.token, token);
        if (terms.reservationPricePerGpuHour == 0 && terms.usagePricePerBusyGpuHour == 0) revert FreeLeaseTerms();
        // Interactions (no state of its own changes; the escrow validates and emits)
        escrow.setLeaseTerms(id, terms);
    }

    /// @inheritdoc IRevenueSplitVault
    function harvest() external nonReentrant returns (uint256 amount) {
        amount = _harvest();
        if (amount == 0) revert NothingToHarvest();
    }

    /// @inheritdoc IRevenueSplitVault
    function claim(address to) external nonReentrant returns (uint256 amount) {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        Holder memory holder = _holders[msg.sender];
        uint160 index = _accumulator.revenuePerShareScaled;
        uint256 stored = _accruedScaled[msg.sender];
        uint256 remainderScaled;
        (amount, remainderScaled) = RevenueShareMath.split(
            stored + RevenueShareMath.earned(holder.shares, index, holder.revenuePerShareScaled)
        );
        if (amount == 0) revert NothingToClaim(msg.sender);
        // Effects: the holder is settled at `index` and its sub-unit remainder joins the carry, which
        // the next harvest hands out to all holders (rounding favours the vault, nothing is lost).
        if (holder.revenuePerShareScaled != index) {
            holder.revenuePerShareScaled = index;
            _holders[msg.sender] = holder;
        }
        if (stored != 0) _accruedScaled[msg.sender] = 0;
        Ledger memory ledger = _ledger;
        _ledger = Ledger({
            carryScaled: (ledger.carryScaled + remainderScaled).toUint128(),
            totalClaimed: (ledger.totalClaimed + amount).toUint128()
        });
        emit RevenueClaimed(msg.sender, to, amount);
        // Interactions
        IERC20(_revenueToken()).safeTransfer(to, amount);
    }

    /// @inheritdoc IRevenueSplitVault
    function redeem(address to) external nonReentrant {
        // Checks
        if (to == address(0)) revert InvalidRecipient(to);
        uint256 shares = _holders[msg.sender].shares;
        uint256 supply = _accumulator.totalShares;
        if (shares != supply) revert NotWholeSupply(msg.sender, shares, supply);
        // Interactions first, deliberately: pulling the escrow balance before the burn credits it to
        // the redeemer's shares. The escrow is a trusted system contract and the guard is held.
        _harvest();
        // Effects
        _burn(msg.sender, shares);
        _redeemer = msg.sender;
        uint256 id = assetId();
        emit Redeemed(msg.sender, to, id, shares);
        // Interactions
        nft.safeTransferFrom(address(this), to, id);
    }

    /// @inheritdoc IERC20
    /// @dev Harvests first when the escrow holds revenue for the vault (see `_update`).
    function transfer(address to, uint256 value) public override(ERC20Upgradeable, IERC20) nonReentrant returns (bool) {
        return super.transfer(to, value);
    }

    /// @inheritdoc IERC20
    /// @dev Harvests first when the escrow holds revenue for the vault (see `_update`).
    function transferFrom(
        address from,
        address to,
        uint256 value
    ) public override(ERC20Upgradeable, IERC20) nonReentrant returns (bool) {
        return super.transferFrom(from, to, value);
    }

    /// @inheritdoc IERC20Metadata
    function name() public view override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return string.concat("GPU Asset #", Strings.toString(assetId()), " Revenue Share");
    }

    /// @inheritdoc IERC20Metadata
    function symbol() public view override(ERC20Upgradeable, IERC20Metadata) returns (string memory) {
        return string.concat("GPURS-", Strings.toString(assetId()));
    }

    /// @inheritdoc IERC20
    function totalSupply() public view override(ERC20Upgradeable, IERC20) returns (uint256) {
        return _accumulator.totalShares;
    }

    /// @inheritdoc IERC20
    function balanceOf(address account) public view override(ERC20Upgradeable, IERC20) returns (uint256) {
        return _holders[account].shares;
    }

    /// @inheritdoc IERC20Permit
    function nonces(address owner) public view override(ERC20PermitUpgradeable, IERC20Permit) returns (uint256) {
        return super.nonces(owner);
    }

    /// @inheritdoc IRevenueSplitVault
    function assetId() public view returns (uint256 id) {
        (id, , ) = _config();
    }

    /// @inheritdoc IRevenueSplitVault
    function revenueToken() external view returns (address) {
        return _revenueToken();
    }

    /// @inheritdoc IRevenueSplitVault
    function manager() external view returns (address manager_) {
        (, , manager_) = _config();
    }

    /// @inheritdoc IRevenueSplitVault
    function claimable(address account) external view returns (uint256 amount) {
        (amount, ) = RevenueShareMath.split(accruedScaled(account));
    }

    /// @inheritdoc IRevenueSplitVault
    function accruedScaled(address account) public view returns (uint256) {
        Holder memory holder = _holders[account];
        return
            _accruedScaled[account] +
            RevenueShareMath.earned(holder.shares, _accumulator.revenuePerShareScaled, holder.revenuePerShareScaled);
    }

    /// @inheritdoc IRevenueSplitVault
    function revenuePerShareScaled() external view returns (uint256) {
        return _accumulator.revenuePerShareScaled;
    }

    /// @inheritdoc IRevenueSplitVault
    function undistributedScaled() external view returns (uint256) {
        return _ledger.carryScaled;
    }

    /// @inheritdoc IRevenueSplitVault
    function totalHarvested() external view returns (uint256) {
        return _totalHarvested;
    }

    /// @inheritdoc IRevenueSplitVault
    function totalClaimed() external view returns (uint256) {
        return _ledger.totalClaimed;
    }

    /// @inheritdoc IRevenueSplitVault
    function pendingHarvest() external view returns (uint256) {
        return escrow.withdrawable(address(this), _revenueToken());
    }

    /// @inheritdoc IRevenueSplitVault
    function redeemedBy() external view returns (address) {
        return _redeemer;
    }

    /// @dev Withdraws the escrow balance and distributes the vault's unowed revenue-token balance.
    /// Returns the amount distributed (zero when there was nothing).
    function _harvest() private returns (uint256 amount) {
        IERC20 token = IERC20(_revenueToken());
        // Interactions first, deliberately: the amount to distribute is what actually arrived, read
        // after the withdrawal. Every caller holds the reentrancy guard.
        escrow.withdraw(address(token), address(this));
        uint256 harvested = _totalHarvested;
        Ledger memory ledger = _ledger;
        uint256 owed = harvested - ledger.totalClaimed;
        uint256 balance = token.balanceOf(address(this));
        amount = balance > owed ? balance - owed : 0;
        if (amount == 0) return 0;
        // Effects
        Accumulator memory acc = _accumulator;
        if (acc.totalShares == 0) {
            // Redeemed: whatever still reaches the vault belongs to the redeemer.
            address redeemer = _redeemer;
            if (redeemer == address(0)) revert NoShareholders();
            _accruedScaled[redeemer] += amount * PRECISION;
        } else {
            (uint256 index, uint256 carry) = RevenueShareMath.distribute(
                acc.revenuePerShareScaled,
                ledger.carryScaled,
                amount,
                acc.totalShares
            );
            acc.revenuePerShareScaled = index.toUint160();
            _accumulator = acc;
            // Cannot overflow: the new carry is below the supply, which fits in 96 bits.
            ledger.carryScaled = uint128(carry);
            _ledger = ledger;
        }
        _totalHarvested = harvested + amount;
        emit RevenueHarvested(msg.sender, amount, acc.revenuePerShareScaled, ledger.carryScaled);
    }

    /// @dev Credits `account` with what its shares earned since its last settlement and moves its
    /// snapshot to `index` (in storage). Returns the settled holder state.
    function _settle(address account, uint160 index) private returns (Holder memory holder) {
        holder = _holders[account];
        if (holder.revenuePerShareScaled != index) {
            if (holder.shares != 0) {
                _accruedScaled[account] += RevenueShareMath.earned(holder.shares, index, holder.revenuePerShareScaled);
            }
            holder.revenuePerShareScaled = index;
            _holders[account] = holder;
        }
    }

    /// @dev Every balance change (mint, burn, transfer) settles both sides at the current index first.
    /// Replaces the parent's bookkeeping: balances and the supply live in `_holders` and `_accumulator`.
    /// A transfer first harvests any revenue the escrow already holds for the vault, so that revenue
    /// goes to the holders before the transfer: buying just before a harvest buys none of it.
    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            // Interactions before effects, deliberately: see above. `transfer` and `transferFrom`
            // hold the reentrancy guard.
            if (escrow.withdrawable(address(this), _revenueToken()) != 0) _harvest();
        }
        uint160 index = _accumulator.revenuePerShareScaled;
        if (from == address(0)) {
            _accumulator.totalShares = (_accumulator.totalShares + value).toUint96();
        } else {
            Holder memory sender = _settle(from, index);
            if (sender.shares < value) revert ERC20InsufficientBalance(from, sender.shares, value);
            // Cannot underflow: checked just above.
            unchecked {
                sender.shares -= uint96(value);
            }
            _holders[from] = sender;
        }
        if (to == address(0)) {
            // Cannot underflow: the burnt shares were part of the supply.
            unchecked {
                _accumulator.totalShares -= uint96(value);
            }
        } else {
            Holder memory recipient = _settle(to, index);
            // Cannot overflow: the supply, which bounds every balance, fits in 96 bits.
            unchecked {
                recipient.shares += uint96(value);
            }
            _holders[to] = recipient;
        }
        emit Transfer(from, to, value);
    }

    /// @dev EIP-712 domain name: the token name, derived from the asset.
    // solhint-disable-next-line func-name-mixedcase
    function _EIP712Name() internal view override returns (string memory) {
        return name();
    }

    /// @dev EIP-712 domain version.
    // solhint-disable-next-line func-name-mixedcase
    function _EIP712Version() internal pure override returns (string memory) {
        return "1";
    }

    /// @dev The clone's immutable arguments, as the factory encoded them.
    function _config() private view returns (uint256 id, address token, address manager_) {
        return abi.decode(Clones.fetchCloneArgs(address(this)), (uint256, address, address));
    }

    function _revenueToken() private view returns (address token) {
        (, token, ) = _config();
    }
}

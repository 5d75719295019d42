// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title RevenueShareMath — the revenue-per-share accumulator, as pure functions
/// @notice Revenue is spread over shares by raising a cumulative revenue-per-share index; a holder's
/// entitlement between two points is `shares × (indexNow − indexThen)`. Every amount inside the
/// accumulator is "scaled": token base units multiplied by `PRECISION`.
/// @dev Exactness: a distribution of `amount` over `supply` shares raises the index by
/// `floor((amount × PRECISION + carry) / supply)` and keeps the remainder as the next `carry`, so
/// `supply × Σ(index raises) + carry = PRECISION × Σ(amounts)` holds exactly and nothing is lost.
/// Per-holder entitlements stay scaled until paid, so the only rounding is the floor applied when a
/// holder is paid, and the fraction it drops stays with that holder for later.
/// Bounds: `amount × PRECISION` must fit in 256 bits (amount < 1.15e47 base units); the vault stores
/// the index in 160 bits and the supply in 96 bits and checks both (SafeCast).
library RevenueShareMath {
    /// @notice Scale of the index and of every entitlement: 1e30 scaled units = 1 token base unit.
    /// @dev With any supply below 2^96 (7.9e28), the carry (< supply scaled units) is worth less than
    /// 0.08 base units, so even 1 base unit over 1e27 shares raises the index (by 1000).
    uint256 internal constant PRECISION = 1e30;

    /// @notice Distributes `amount` base units over `supply` shares.
    /// @param revenuePerShareScaled The index before.
    /// @param carryScaled The undistributed remainder before (scaled, < supply).
    /// @param amount Revenue to distribute, in token base units.
    /// @param supply Shares outstanding; must be non-zero.
    /// @return newRevenuePerShareScaled The index after.
    /// @return newCarryScaled The undistributed remainder after (scaled, < supply).
    function distribute(
        uint256 revenuePerShareScaled,
        uint256 carryScaled,
        uint256 amount,
        uint256 supply
    ) internal pure returns (uint256 newRevenuePerShareScaled, uint256 newCarryScaled) {
        uint256 totalScaled = amount * PRECISION + carryScaled;
        newRevenuePerShareScaled = revenuePerShareScaled + totalScaled / supply;
        newCarryScaled = totalScaled % supply;
    }

    /// @notice The entitlement `shares` earned while the index rose from `indexThen` to `indexNow`.
    /// @param shares Shares held over the whole interval.
    /// @param indexNow The index now.
    /// @param indexThen The index at the holder's last settlement (≤ `indexNow`).
    /// @return earnedScaled Entitlement, scaled (exact, no rounding).
    function earned(uint256 shares, uint256 indexNow, uint256 indexThen) internal pure returns (uint256 earnedScaled) {
        earnedScaled = shares * (indexNow - indexThen);
    }

    /// @notice Splits a scaled entitlement into what can be paid now and the sub-unit rest.
    /// @dev Rounds down: the payout never exceeds the entitlement (rounding favours the vault).
    /// @param accruedScaled Entitlement, scaled.
    /// @return payable_ Whole token base units.
    /// @return remainderScaled What is left, scaled (< PRECISION, i.e. less than one base unit).
    function split(uint256 accruedScaled) internal pure returns (uint256 payable_, uint256 remainderScaled) {
        payable_ = accruedScaled / PRECISION;
        remainderScaled = accruedScaled % PRECISION;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { RevenueShareMath } from "../libraries/RevenueShareMath.sol";

/// @title RevenueShareMathHarness
/// @notice Test-only: exposes the internal functions of RevenueShareMath so tests can call them.
/// @dev Warning: test-only. Never deploy to any network.
contract RevenueShareMathHarness {
    /// @notice See RevenueShareMath.PRECISION.
    /// @return The precision.
    function precision() external pure returns (uint256) {
        return RevenueShareMath.PRECISION;
    }

    /// @notice See RevenueShareMath.distribute.
    function distribute(
        uint256 revenuePerShareScaled,
        uint256 carryScaled,
        uint256 amount,
        uint256 supply
    ) external pure returns (uint256, uint256) {
        return RevenueShareMath.distribute(revenuePerShareScaled, carryScaled, amount, supply);
    }

    /// @notice See RevenueShareMath.earned.
    function earned(uint256 shares, uint256 indexNow, uint256 indexThen) external pure returns (uint256) {
        return RevenueShareMath.earned(shares, indexNow, indexThen);
    }

    /// @notice See RevenueShareMath.split.
    function split(uint256 accruedScaled) external pure returns (uint256, uint256) {
        return RevenueShareMath.split(accruedScaled);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MockTokenBase } from "./MockTokenBase.sol";

/// @title MockFalseReturnToken
/// @notice Test token that returns `false` instead of reverting when a transfer cannot be done.
/// @dev Warning: test-only. Never deploy to a public network.
contract MockFalseReturnToken is MockTokenBase {
    constructor() MockTokenBase("Mock False Return", "mFALSE", 6) {}

    /// @notice ERC-20 transfer; returns false (no revert, no state change) on insufficient balance.
    function transfer(address to, uint256 amount) external returns (bool) {
        return _tryMove(msg.sender, to, amount);
    }

    /// @notice ERC-20 transferFrom; returns false (no revert, no state change) on failure.
    function transferFrom(address from, address to, uint256 amount) external returns (bool) {
        if (balanceOf[from] < amount || allowance[from][msg.sender] < amount) return false;
        _trySpend(from, amount);
        return _tryMove(from, to, amount);
    }

    /// @notice ERC-20 approve.
    function approve(address spender, uint256 amount) external returns (bool) {
        _approve(spender, amount);
        return true;
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { MockTokenBase } from "./MockTokenBase.sol";

/// @title MockNoReturnToken
/// @notice USDT-like test token: `transfer`, `transferFrom` and `approve` return nothing and revert on
/// failure. Like USDT, `approve` from a non-zero allowance to another non-zero value reverts.
/// @dev Warning: test-only. Never deploy to a public network.
contract MockNoReturnToken is MockTokenBase {
    /// @notice Raised when a transfer or allowance spend cannot be done.
    error NoReturnTokenFailed();

    constructor() MockTokenBase("Mock Tether", "mUSDT", 6) {}

    /// @notice ERC-20 transfer without a return value.
    function transfer(address to, uint256 amount) external {
        if (!_tryMove(msg.sender, to, amount)) revert NoReturnTokenFailed();
    }

    /// @notice ERC-20 transferFrom without a return value.
    function transferFrom(address from, address to, uint256 amount) external {
        if (!_trySpend(from, amount) || !_tryMove(from, to, amount)) revert NoReturnTokenFailed();
    }

    /// @notice ERC-20 approve without a return value; non-zero to non-zero reverts, as USDT does.
    function approve(address spender, uint256 amount) external {
        if (amount != 0 && allowance[msg.sender][spender] != 0) revert NoReturnTokenFailed();
        _approve(spender, amount);
    }
}

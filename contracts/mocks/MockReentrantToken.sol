// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockReentrantToken
/// @notice Test token that, once armed, calls an attacker-chosen target with attacker-chosen calldata
/// in the middle of a transfer (after balances move), as a token with transfer hooks would.
/// The outcome of the call is recorded, not bubbled, so tests can assert a guard fired.
/// @dev Warning: test-only. Never deploy to a public network.
contract MockReentrantToken is ERC20 {
    /// @notice Emitted after the re-entrant call with its outcome.
    event ReentryAttempted(address indexed target, bool success, bytes returnData);

    /// @notice Contract called back during the next transfer; zero when disarmed.
    address public reentryTarget;
    /// @notice Calldata of the call back.
    bytes public reentryData;
    /// @notice Whether the last re-entrant call succeeded.
    bool public lastReentrySucceeded;
    /// @notice Return (or revert) data of the last re-entrant call.
    bytes public lastReentryReturnData;

    constructor() ERC20("Mock Reentrant USD", "mREENTER") {}

    /// @notice Mints `amount` to `to` (test helper, anyone may call).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Arms the hook: the next transfer calls `target` with `data` once, then disarms.
    function arm(address target, bytes calldata data) external {
        reentryTarget = target;
        reentryData = data;
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        super._update(from, to, value);
        address target = reentryTarget;
        if (target != address(0) && from != address(0) && to != address(0)) {
            reentryTarget = address(0);
            (bool success, bytes memory returnData) = target.call(reentryData);
            lastReentrySucceeded = success;
            lastReentryReturnData = returnData;
            emit ReentryAttempted(target, success, returnData);
        }
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { Vm } from "./Vm.sol";

/// @title CheatBase — the cheatcode handle and input helpers, for tests and invariant handlers
abstract contract CheatBase {
    /// @dev forge's cheatcode address: address(uint160(uint256(keccak256("hevm cheat code")))).
    Vm internal constant vm = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);

    /// @dev Maps any `x` into [min, max] without rejecting inputs (keeps fuzz runs productive).
    function bound(uint256 x, uint256 min, uint256 max) internal pure returns (uint256) {
        require(min <= max, "bound: min > max");
        if (x >= min && x <= max) return x;
        uint256 size = max - min;
        if (size == type(uint256).max) return x;
        return min + (x % (size + 1));
    }
}

/// @title TestBase — what forge looks for on a test contract, written out
/// @notice The target lists forge reads before an invariant campaign (`targetContracts`,
/// `targetSelectors`, `targetSenders`), on top of the cheatcode handle.
abstract contract TestBase is CheatBase {
    /// @notice A contract and the functions of it that an invariant campaign may call.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;
    address[] private _targetSenders;

    /// @notice Contracts an invariant campaign calls (read by forge).
    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    /// @notice Functions an invariant campaign calls (read by forge).
    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    /// @notice Senders an invariant campaign uses (read by forge); empty means random senders.
    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(address target, bytes4[] memory selectors) internal {
        _targetSelectors.push(FuzzSelector({ addr: target, selectors: selectors }));
    }

    function targetSender(address sender) internal {
        _targetSenders.push(sender);
    }
}

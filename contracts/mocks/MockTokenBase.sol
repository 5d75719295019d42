// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title MockTokenBase
/// @notice Minimal balance and allowance bookkeeping shared by the awkward test tokens, which differ
/// only in how `transfer`, `transferFrom` and `approve` report (or fail to report) their outcome.
/// @dev Warning: test-only, open minting. Never deploy to a public network.
abstract contract MockTokenBase {
    /// @notice Emitted on every balance move, as in ERC-20.
    event Transfer(address indexed from, address indexed to, uint256 value);
    /// @notice Emitted on every allowance change, as in ERC-20.
    event Approval(address indexed owner, address indexed spender, uint256 value);

    /// @notice Token name.
    string public name;
    /// @notice Token symbol.
    string public symbol;
    /// @notice Token decimals.
    uint8 public immutable decimals;
    /// @notice Total supply in base units.
    uint256 public totalSupply;
    /// @notice Balance of each account in base units.
    mapping(address account => uint256) public balanceOf;
    /// @notice Allowance granted by an owner to a spender.
    mapping(address owner => mapping(address spender => uint256)) public allowance;

    constructor(string memory name_, string memory symbol_, uint8 decimals_) {
        name = name_;
        symbol = symbol_;
        decimals = decimals_;
    }

    /// @notice Mints `amount` to `to` (test helper, anyone may call).
    function mint(address to, uint256 amount) external {
        totalSupply += amount;
        balanceOf[to] += amount;
        emit Transfer(address(0), to, amount);
    }

    /// @dev Moves `amount` and returns whether it succeeded; never reverts on insufficient funds.
    function _tryMove(address from, address to, uint256 amount) internal returns (bool) {
        if (balanceOf[from] < amount) return false;
        balanceOf[from] -= amount;
        balanceOf[to] += amount;
        emit Transfer(from, to, amount);
        return true;
    }

    /// @dev Spends allowance and returns whether it sufficed; never reverts.
    function _trySpend(address owner, uint256 amount) internal returns (bool) {
        uint256 allowed = allowance[owner][msg.sender];
        if (allowed < amount) return false;
        if (allowed != type(uint256).max) allowance[owner][msg.sender] = allowed - amount;
        return true;
    }

    function _approve(address spender, uint256 amount) internal {
        allowance[msg.sender][spender] = amount;
        emit Approval(msg.sender, spender, amount);
    }
}

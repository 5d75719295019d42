// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockBlocklistToken
/// @notice USDC-like test token whose issuer can blocklist accounts: a blocklisted account can
/// neither send nor receive.
/// @dev Warning: test-only, open minting and open blocklisting. Never deploy to a public network.
contract MockBlocklistToken is ERC20 {
    /// @notice Raised when a blocklisted account sends or receives.
    /// @param account The blocklisted account.
    error Blocklisted(address account);

    /// @notice Emitted when an account's blocklist flag changes.
    event BlocklistUpdated(address indexed account, bool blocked);

    /// @notice Whether an account is blocklisted.
    mapping(address account => bool) public isBlocklisted;

    constructor() ERC20("Mock Blocklist USD", "mBLOCK") {}

    /// @notice Mints `amount` to `to` (test helper, anyone may call).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Sets or clears the blocklist flag of `account` (test helper, anyone may call).
    function setBlocklisted(address account, bool blocked) external {
        isBlocklisted[account] = blocked;
        emit BlocklistUpdated(account, blocked);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (isBlocklisted[from]) revert Blocklisted(from);
        if (isBlocklisted[to]) revert Blocklisted(to);
        super._update(from, to, value);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC20 } from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @title MockFeeOnTransferToken
/// @notice Test token that burns a fee (in basis points) from every transfer, so the recipient gets
/// less than the amount sent.
/// @dev Warning: test-only, open minting. Never deploy to a public network.
contract MockFeeOnTransferToken is ERC20 {
    /// @notice Fee taken from every transfer, in basis points of the amount.
    uint16 public immutable feeBps;

    constructor(uint16 feeBps_) ERC20("Mock Fee Token", "mFEE") {
        feeBps = feeBps_;
    }

    /// @notice Mints `amount` to `to` (test helper, anyone may call).
    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @inheritdoc ERC20
    function decimals() public pure override returns (uint8) {
        return 6;
    }

    /// @dev Burns `feeBps` of every transfer between two accounts (not mints or burns).
    function _update(address from, address to, uint256 value) internal override {
        if (from == address(0) || to == address(0)) {
            super._update(from, to, value);
            return;
        }
        uint256 fee = (value * feeBps) / 10_000;
        super._update(from, address(0), fee);
        super._update(from, to, value - fee);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { ERC721 } from "@openzeppelin/contracts/token/ERC721/ERC721.sol";
import { ILoanNote } from "../interfaces/ILoanNote.sol";

/// @title LoanNote
/// @notice "Compute Credit Note" (CCN): the ERC-721 of CreditFacility's lender positions. See ILoanNote.
contract LoanNote is ILoanNote, ERC721 {
    /// @inheritdoc ILoanNote
    address public immutable facility;

    /// @dev Deployed by the facility, which becomes the only minter.
    constructor() ERC721("Compute Credit Note", "CCN") {
        facility = msg.sender;
    }

    /// @inheritdoc ILoanNote
    function mint(address lender, uint256 loanId) external {
        if (msg.sender != facility) revert CallerNotFacility(msg.sender);
        _mint(lender, loanId);
    }

    /// @inheritdoc ILoanNote
    function holderAndAuthorization(
        address account,
        uint256 loanId
    ) external view returns (address holder, bool authorized) {
        holder = _requireOwned(loanId);
        authorized = _isAuthorized(holder, account, loanId);
    }
}

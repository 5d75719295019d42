// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { IERC20 } from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import { IERC721 } from "@openzeppelin/contracts/token/ERC721/IERC721.sol";
import { SafeERC20 } from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";
import { LeaseTerms } from "../types/EscrowTypes.sol";

/// @title MockVaultEscrow
/// @notice Test-only stand-in for SettlementEscrow's fixed vault-facing surface (`setLeaseTerms`,
/// `leaseTermsOf`, `unfinishedLeasesOf`, `withdraw`, `withdrawable`) over real token balances, so
/// RevenueSplitVault unit tests can credit revenue directly without leases and oracle readings. The
/// end-to-end vault tests run against the real SettlementEscrow.
/// @dev Warning: test-only; anyone can credit any account. Never deploy to any network. It does not
/// inherit ISettlementEscrow (which also declares the lease lifecycle); the five functions match its
/// selectors, so the vault calls it through that interface unchanged.
contract MockVaultEscrow {
    using SafeERC20 for IERC20;

    /// @notice Raised when the caller is neither the asset's owner nor its approved operator.
    /// @param caller The caller.
    /// @param assetId The asset.
    error NotOwnerOrOperator(address caller, uint256 assetId);

    /// @notice Emitted when terms are published.
    event LeaseTermsSet(uint256 indexed assetId, address indexed token);
    /// @notice Emitted when an account is credited.
    event Credited(address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted when an account withdraws.
    event Withdrawn(address indexed account, address indexed token, address to, uint256 amount);

    /// @notice The NFT whose owners may publish terms.
    IERC721 public immutable nft;

    mapping(uint256 assetId => LeaseTerms) private _terms;
    mapping(address account => mapping(address token => uint256 amount)) private _balances;

    /// @param nft_ The NFT whose owners may publish terms.
    constructor(IERC721 nft_) {
        nft = nft_;
    }

    /// @notice As ISettlementEscrow.setLeaseTerms, without validation beyond the caller.
    function setLeaseTerms(uint256 assetId, LeaseTerms calldata terms) external {
        address owner = nft.ownerOf(assetId);
        if (msg.sender != owner && !nft.isApprovedForAll(owner, msg.sender) && nft.getApproved(assetId) != msg.sender) {
            revert NotOwnerOrOperator(msg.sender, assetId);
        }
        _terms[assetId] = terms;
        emit LeaseTermsSet(assetId, terms.token);
    }

    /// @notice As ISettlementEscrow.leaseTermsOf.
    function leaseTermsOf(uint256 assetId) external view returns (LeaseTerms memory) {
        return _terms[assetId];
    }

    /// @notice Test helper: pulls `amount` of `token` from the caller and credits it to `account`.
    /// @param account The account credited.
    /// @param token The token.
    /// @param amount Amount in base units.
    function credit(address account, address token, uint256 amount) external {
        IERC20(token).safeTransferFrom(msg.sender, address(this), amount);
        _balances[account][token] += amount;
        emit Credited(account, token, amount);
    }

    /// @notice As ISettlementEscrow.unfinishedLeasesOf: this stand-in has no leases, so none are unfinished.
    function unfinishedLeasesOf(uint256) external pure returns (uint256 count, address token) {
        return (0, address(0));
    }

    /// @notice As ISettlementEscrow.withdraw: pays the caller's whole balance (zero allowed).
    function withdraw(address token, address to) external returns (uint256 amount) {
        amount = _balances[msg.sender][token];
        _balances[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, to, amount);
        if (amount != 0) IERC20(token).safeTransfer(to, amount);
    }

    /// @notice As ISettlementEscrow.withdrawable.
    function withdrawable(address account, address token) external view returns (uint256) {
        return _balances[account][token];
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title ERC-4907: rental NFT, an extension of ERC-721
/// @notice A time-limited "user" role separate from the owner. Interface id 0xad092b5c.
interface IERC4907 {
    /// @notice Emitted when the user of an NFT or its expiry changes.
    /// @param tokenId The NFT.
    /// @param user The new user; the zero address when cleared.
    /// @param expires Unix timestamp at which the user right ends.
    event UpdateUser(uint256 indexed tokenId, address indexed user, uint64 expires);

    /// @notice Sets the user and expiry of an NFT.
    /// @param tokenId The NFT.
    /// @param user The new user; the zero address to clear.
    /// @param expires Unix timestamp at which the user right ends.
    function setUser(uint256 tokenId, address user, uint64 expires) external;

    /// @notice The current user of an NFT; the zero address when none or expired.
    /// @param tokenId The NFT.
    /// @return The user address.
    function userOf(uint256 tokenId) external view returns (address);

    /// @notice The expiry of the user right of an NFT; zero when none.
    /// @param tokenId The NFT.
    /// @return Unix timestamp.
    function userExpires(uint256 tokenId) external view returns (uint256);
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

/// @title Vm — the few forge cheatcodes this suite uses
/// @notice A minimal, hand-written subset of forge's cheatcode interface (the npm `forge-std` is
/// stale). Signatures must match forge's exactly: the selector is what forge dispatches on.
interface Vm {
    // ---- environment ----
    function warp(uint256 newTimestamp) external;
    function roll(uint256 newHeight) external;
    function getBlockTimestamp() external view returns (uint256 timestamp);

    // ---- callers ----
    function prank(address msgSender) external;
    function startPrank(address msgSender) external;
    function stopPrank() external;

    // ---- keys and signatures ----
    function addr(uint256 privateKey) external pure returns (address keyAddr);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);

    // ---- expectations ----
    function expectRevert() external;
    function expectRevert(bytes4 revertData) external;
    function expectRevert(bytes calldata revertData) external;
    function assume(bool condition) external pure;

    // ---- assertions (revert with both values on failure) ----
    function assertTrue(bool condition, string calldata error) external pure;
    function assertFalse(bool condition, string calldata error) external pure;
    function assertEq(uint256 left, uint256 right, string calldata error) external pure;
    function assertEq(address left, address right, string calldata error) external pure;
    function assertEq(bytes32 left, bytes32 right, string calldata error) external pure;
    function assertEq(bool left, bool right, string calldata error) external pure;
    function assertLe(uint256 left, uint256 right, string calldata error) external pure;
    function assertGe(uint256 left, uint256 right, string calldata error) external pure;
    function assertLt(uint256 left, uint256 right, string calldata error) external pure;
    function assertGt(uint256 left, uint256 right, string calldata error) external pure;

    // ---- formatting ----
    function toString(uint256 value) external pure returns (string memory);
    function toString(bytes calldata value) external pure returns (string memory);

    // ---- labels (traces only) ----
    function label(address account, string calldata newLabel) external;
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { MockUSDC } from "../../../contracts/mocks/MockUSDC.sol";
import { MockFeeOnTransferToken } from "../../../contracts/mocks/MockFeeOnTransferToken.sol";
import { MockNoReturnToken } from "../../../contracts/mocks/MockNoReturnToken.sol";
import { MockBlocklistToken } from "../../../contracts/mocks/MockBlocklistToken.sol";

/// @notice The awkward tokens the settlement suites run against must behave exactly as their docs
/// say for every amount, or a suite that "handles fee-on-transfer" proves nothing.
contract MockTokensFuzzTest is TestBase {
    address internal constant ALICE = address(0xA11CE);
    address internal constant BOB = address(0xB0B);

    MockUSDC internal usdc;
    MockFeeOnTransferToken internal feeToken;
    MockNoReturnToken internal noReturn;
    MockBlocklistToken internal blocklist;

    function setUp() public {
        usdc = new MockUSDC();
        feeToken = new MockFeeOnTransferToken(100); // 1 %
        noReturn = new MockNoReturnToken();
        blocklist = new MockBlocklistToken();
    }

    function testFuzz_usdcTransferConservesSupply(uint256 minted, uint256 sent) public {
        minted = bound(minted, 0, type(uint128).max);
        sent = bound(sent, 0, minted);
        usdc.mint(ALICE, minted);
        vm.prank(ALICE);
        usdc.transfer(BOB, sent);
        vm.assertEq(usdc.balanceOf(ALICE) + usdc.balanceOf(BOB), usdc.totalSupply(), "sum of balances = supply");
        vm.assertEq(usdc.balanceOf(BOB), sent, "recipient gets the amount");
    }

    function testFuzz_feeTokenDeliversLessByExactlyTheFee(uint256 minted, uint256 sent) public {
        minted = bound(minted, 0, type(uint128).max);
        sent = bound(sent, 0, minted);
        feeToken.mint(ALICE, minted);
        vm.prank(ALICE);
        feeToken.transfer(BOB, sent);
        uint256 fee = (sent * 100) / 10_000;
        vm.assertEq(feeToken.balanceOf(BOB), sent - fee, "recipient gets amount - fee");
        vm.assertEq(feeToken.balanceOf(ALICE), minted - sent, "sender pays the full amount");
        vm.assertEq(feeToken.totalSupply(), minted - fee, "the fee is burnt");
    }

    function testFuzz_noReturnTokenRevertsOnShortBalance(uint256 minted, uint256 sent) public {
        minted = bound(minted, 0, type(uint128).max - 1);
        sent = bound(sent, minted + 1, type(uint128).max);
        noReturn.mint(ALICE, minted);
        vm.prank(ALICE);
        vm.expectRevert(MockNoReturnToken.NoReturnTokenFailed.selector);
        noReturn.transfer(BOB, sent);
    }

    function testFuzz_blocklistTokenBlocksOnlyTheListedParty(uint256 amount, bool blockSender) public {
        amount = bound(amount, 1, type(uint128).max);
        blocklist.mint(ALICE, amount);
        address blocked = blockSender ? ALICE : BOB;
        blocklist.setBlocklisted(blocked, true);
        vm.prank(ALICE);
        vm.expectRevert(abi.encodeWithSelector(MockBlocklistToken.Blocklisted.selector, blocked));
        blocklist.transfer(BOB, amount);
        // Anyone else still transacts.
        blocklist.mint(address(this), amount);
        blocklist.transfer(address(0xCAFE), amount);
        vm.assertEq(blocklist.balanceOf(address(0xCAFE)), amount, "unlisted transfer succeeds");
    }
}

// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;

import { TestBase } from "../utils/TestBase.sol";
import { GpuAssetNFT } from "../../../contracts/GpuAssetNFT.sol";
import { UsageOracle } from "../../../contracts/UsageOracle.sol";
import { GpuSpec } from "../../../contracts/types/GpuAssetTypes.sol";
import { Meter } from "../../../contracts/types/OracleTypes.sol";
import { UsageOracleHandler } from "../handlers/UsageOracleHandler.sol";

/// @notice O1–O4 of test/foundry/README.md after every random action of the oracle campaign.
/// forge-config: default.invariant.depth = 60
/// forge-config: deep.invariant.depth = 120
contract UsageOracleInvariantTest is TestBase {
    GpuAssetNFT internal nft;
    UsageOracle internal oracle;
    UsageOracleHandler internal handler;

    function setUp() public {
        nft = new GpuAssetNFT(address(this));
        nft.grantRole(nft.REGISTRAR_ROLE(), address(this));
        uint256[] memory assets = new uint256[](3);
        assets[0] = _mint(8, 700, "a");
        assets[1] = _mint(1, 300, "b");
        assets[2] = _mint(64, 1000, "c");

        uint256[] memory keys = new uint256[](5);
        address[] memory initial = new address[](3);
        for (uint256 i = 0; i < keys.length; i++)
            keys[i] = (uint256(keccak256(abi.encode("signer", i))) % (2 ** 200)) + 1;
        for (uint256 i = 0; i < 3; i++) initial[i] = vm.addr(keys[i]);
        oracle = new UsageOracle(address(this), nft, initial, 2, 300, 1_000);
        handler = new UsageOracleHandler(oracle, nft, assets, keys, 2);
        oracle.grantRole(oracle.ORACLE_ADMIN_ROLE(), address(handler));
        targetContract(address(handler));
    }

    function _mint(uint16 gpuCount, uint16 tdp, string memory serials) internal returns (uint256) {
        return
            nft.mint(
                // An account without code: mint is safe, and this test contract has no receiver hook.
                address(0x0BE1),
                GpuSpec({
                    gpuModel: "NVIDIA H100 80GB HBM3",
                    datacenter: "eu-west-fra2",
                    serialsHash: keccak256(bytes(serials)),
                    vramMiBPerGpu: 81_559,
                    gpuCount: gpuCount,
                    tdpWattsPerGpu: tdp
                })
            );
    }

    /// @notice O1–O4 after every call.
    function invariant_oracleMeters() public view {
        vm.assertEq(
            handler.invalidAccepted(),
            0,
            string.concat("O2/O4 invalid batch accepted: ", handler.lastInvalidAccepted())
        );
        vm.assertEq(handler.validRefused(), 0, "a valid quorum-signed batch was refused");
        vm.assertEq(handler.futureAccepted(), 0, "O3 reading beyond the skew accepted");
        for (uint256 i = 0; i < handler.assetCount(); i++) {
            uint256 assetId = handler.assets(i);
            Meter memory onChain = oracle.latestReading(assetId);
            Meter memory expected = handler.ghost(assetId);
            // O1 + O4: the meter is exactly the last valid batch's reading (which only moved forward).
            vm.assertEq(onChain.timestamp, expected.timestamp, "O1 timestamp");
            vm.assertEq(onChain.busyGpuSeconds, expected.busyGpuSeconds, "O1 busy");
            vm.assertEq(onChain.availableGpuSeconds, expected.availableGpuSeconds, "O1 available");
            vm.assertEq(onChain.energyJ, expected.energyJ, "O1 energy");
            // O2: the last step was physically possible.
            Meter memory previous = handler.ghostPrevious(assetId);
            if (previous.timestamp != 0) {
                (uint16 gpuCount, uint16 tdp, ) = nft.meteringLimits(assetId);
                uint256 dt = onChain.timestamp - previous.timestamp;
                uint256 busyDelta = onChain.busyGpuSeconds - previous.busyGpuSeconds;
                uint256 availableDelta = onChain.availableGpuSeconds - previous.availableGpuSeconds;
                vm.assertLe(busyDelta, availableDelta, "O2 busy <= available");
                vm.assertLe(availableDelta, uint256(gpuCount) * dt, "O2 available <= capacity");
                vm.assertLe(
                    onChain.energyJ - previous.energyJ,
                    (uint256(gpuCount) * tdp * dt * (10_000 + oracle.energyMarginBps())) / 10_000,
                    "O2 energy <= limit"
                );
            }
        }
    }
}

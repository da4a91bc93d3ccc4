// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;
import {Fixture} from "./utils/Fixture.sol";
import {IJobMarketplace} from "../contracts/interfaces/IJobMarketplace.sol";
contract SmokeTest is Fixture {
    function setUp() public override { super.setUp(); _registerHost(host); }
    function test_fullFlow() public {
        uint256 id = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id));
        assertEq(uint8(_status(id)), uint8(IJobMarketplace.Status.Paid));
        vm.prank(host);
        // 1% fee (0.0005 ether) to the treasury; a tenth of ETH's 0.005 credit fee earns a
        // tenth of a completion: +0.5 point, carried, so the score still reads 500
        assertEq(marketplace.withdraw(address(0)), PAYMENT - 0.0005 ether);
        assertEq(host.balance, PAYMENT - 0.0005 ether);
        assertEq(marketplace.claimable(treasury, address(0)), 0.0005 ether);
        assertEq(reputation.scoreOf(host), 500);
        // a second such job completes the point
        uint256 id2 = _completedJob();
        vm.warp(block.timestamp + 1 days + 1);
        marketplace.releasePayments(_ids(id2));
        assertEq(reputation.scoreOf(host), 501);
    }
    function test_gas_register() public {
        _stake(stranger, MIN_STAKE);
        vm.prank(stranger);
        uint256 g = gasleft();
        registry.register("https://h1.vouch.example:8443", REGION, _models(MODEL), PRICE_PER_TOKEN);
        emit log_named_uint("register", g - gasleft());
        vm.prank(renter);
        g = gasleft();
        uint256 id = marketplace.createJob{value: PAYMENT}(MODEL, INPUT, address(0), PAYMENT, uint40(block.timestamp + 1 hours), address(0), 0);
        emit log_named_uint("create", g - gasleft());
        vm.prank(stranger);
        g = gasleft();
        marketplace.claimJob(id, stranger);
        emit log_named_uint("claim", g - gasleft());
    }
}

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
        assertEq(marketplace.withdraw(address(0)), PAYMENT);
        assertEq(host.balance, PAYMENT);
        assertEq(reputation.scoreOf(host), 504);
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

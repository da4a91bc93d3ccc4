// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {Test} from "forge-std/Test.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Errors} from "@openzeppelin/contracts/interfaces/draft-IERC6093.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {IVotes} from "@openzeppelin/contracts/governance/utils/IVotes.sol";
import {VouchToken} from "../contracts/VouchToken.sol";

contract VouchTokenTest is Test {
    uint256 internal constant SUPPLY = 1_000_000_000 ether;
    bytes32 internal constant PERMIT_TYPEHASH =
        keccak256("Permit(address owner,address spender,uint256 value,uint256 nonce,uint256 deadline)");

    VouchToken internal token;
    address internal holder;
    uint256 internal holderKey;
    address internal alice = makeAddr("alice");
    address internal bob = makeAddr("bob");

    function setUp() public {
        (holder, holderKey) = makeAddrAndKey("holder");
        vm.warp(1_700_000_000);
        token = new VouchToken(holder, SUPPLY);
    }

    function test_metadataAndSupply() public view {
        assertEq(token.name(), "Vouch");
        assertEq(token.symbol(), "VOUCH");
        assertEq(token.decimals(), 18);
        assertEq(token.totalSupply(), SUPPLY);
        assertEq(token.balanceOf(holder), SUPPLY);
    }

    function test_transfer_movesBalanceAndEmits() public {
        vm.expectEmit(true, true, false, true, address(token));
        emit IERC20.Transfer(holder, alice, 250 ether);
        vm.prank(holder);
        assertTrue(token.transfer(alice, 250 ether));
        assertEq(token.balanceOf(alice), 250 ether);
        assertEq(token.balanceOf(holder), SUPPLY - 250 ether);
        assertEq(token.totalSupply(), SUPPLY);
    }

    function test_transfer_revertsOverBalance() public {
        vm.expectRevert(abi.encodeWithSelector(IERC20Errors.ERC20InsufficientBalance.selector, alice, 0, 1));
        vm.prank(alice);
        token.transfer(bob, 1);
    }

    function testFuzz_transferConservesSupply(uint256 amount) public {
        amount = bound(amount, 0, SUPPLY);
        vm.prank(holder);
        token.transfer(alice, amount);
        assertEq(token.balanceOf(alice) + token.balanceOf(holder), SUPPLY);
    }

    function _permitDigest(address spender, uint256 value, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        bytes32 structHash = keccak256(abi.encode(PERMIT_TYPEHASH, holder, spender, value, nonce, deadline));
        return keccak256(abi.encodePacked("\x19\x01", token.DOMAIN_SEPARATOR(), structHash));
    }

    function test_permit_withRealSignatureSetsAllowance() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(holderKey, _permitDigest(bob, 42 ether, 0, deadline));

        vm.expectEmit(true, true, false, true, address(token));
        emit IERC20.Approval(holder, bob, 42 ether);
        token.permit(holder, bob, 42 ether, deadline, v, r, s);

        assertEq(token.allowance(holder, bob), 42 ether);
        assertEq(token.nonces(holder), 1);
        vm.prank(bob);
        token.transferFrom(holder, alice, 42 ether);
        assertEq(token.balanceOf(alice), 42 ether);
        assertEq(token.allowance(holder, bob), 0);
    }

    function test_permit_revertsOnReplay() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(holderKey, _permitDigest(bob, 1 ether, 0, deadline));
        token.permit(holder, bob, 1 ether, deadline, v, r, s);
        // The nonce moved on, so the same signature now recovers to another address.
        vm.expectRevert();
        token.permit(holder, bob, 1 ether, deadline, v, r, s);
        assertEq(token.nonces(holder), 1);
    }

    function test_permit_revertsAfterDeadline() public {
        uint256 deadline = block.timestamp + 1 hours;
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(holderKey, _permitDigest(bob, 1 ether, 0, deadline));
        vm.warp(deadline + 1);
        vm.expectRevert(abi.encodeWithSelector(ERC20Permit.ERC2612ExpiredSignature.selector, deadline));
        token.permit(holder, bob, 1 ether, deadline, v, r, s);
    }

    function test_permit_revertsForWrongSigner() public {
        uint256 deadline = block.timestamp + 1 hours;
        (, uint256 aliceKey) = makeAddrAndKey("alice");
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(aliceKey, _permitDigest(bob, 1 ether, 0, deadline));
        vm.expectRevert(
            abi.encodeWithSelector(ERC20Permit.ERC2612InvalidSigner.selector, vm.addr(aliceKey), holder)
        );
        token.permit(holder, bob, 1 ether, deadline, v, r, s);
    }

    function test_clockIsTimestamp() public {
        assertEq(token.CLOCK_MODE(), "mode=timestamp");
        assertEq(token.clock(), uint48(block.timestamp));
        vm.warp(block.timestamp + 123);
        assertEq(token.clock(), uint48(block.timestamp));
    }

    function test_delegation_votingPowerOverTime() public {
        uint256 t0 = block.timestamp;
        vm.prank(holder);
        token.transfer(alice, 1000 ether);
        assertEq(token.getVotes(alice), 0, "no votes before delegating");

        vm.expectEmit(true, true, true, true, address(token));
        emit IVotes.DelegateChanged(alice, address(0), alice);
        vm.expectEmit(true, false, false, true, address(token));
        emit IVotes.DelegateVotesChanged(alice, 0, 1000 ether);
        vm.prank(alice);
        token.delegate(alice);
        assertEq(token.getVotes(alice), 1000 ether);
        assertEq(token.delegates(alice), alice);

        vm.warp(t0 + 100);
        vm.prank(alice);
        token.transfer(bob, 400 ether);
        assertEq(token.getVotes(alice), 600 ether);

        vm.warp(t0 + 200);
        vm.prank(alice);
        token.delegate(bob);
        assertEq(token.getVotes(alice), 0);
        assertEq(token.getVotes(bob), 600 ether, "bob holds alice's delegated 600, his own 400 is undelegated");

        vm.warp(t0 + 300);
        assertEq(token.getPastVotes(alice, t0 + 50), 1000 ether);
        assertEq(token.getPastVotes(alice, t0 + 150), 600 ether);
        assertEq(token.getPastVotes(alice, t0 + 250), 0);
        assertEq(token.getPastVotes(bob, t0 + 250), 600 ether);
        assertEq(token.getPastTotalSupply(t0 + 250), SUPPLY);
    }

    function test_getPastVotes_revertsForFuture() public {
        vm.expectRevert();
        token.getPastVotes(alice, block.timestamp);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice A real fee-on-transfer ERC20 (the USDT-with-fee / reflection-token pattern): every
///         transfer between two accounts burns `feeBps` of the amount, so the recipient gets less
///         than was sent. Minting and burning are not taxed.
contract FeeOnTransferToken is ERC20 {
    uint16 public immutable feeBps;

    constructor(address holder, uint256 supply, uint16 feeBps_) ERC20("Fee On Transfer", "FOT") {
        require(feeBps_ <= 10_000, "fee");
        feeBps = feeBps_;
        _mint(holder, supply);
    }

    function _update(address from, address to, uint256 value) internal override {
        if (from != address(0) && to != address(0)) {
            uint256 fee = value * feeBps / 10_000;
            if (fee != 0) {
                super._update(from, address(0), fee); // burnt
                value -= fee;
            }
        }
        super._update(from, to, value);
    }
}

/// @notice A contract that acts as a renter or a host and, when paid ETH, tries to call back
///         into the protocol once (`payload` on `target`, with `reentryValue` wei).
///         Modes: Off (just accepts ETH), Catch (re-enters, records the outcome, accepts the
///         payment anyway), Bubble (re-enters and reverts with the re-entry's error if it
///         failed), Reject (refuses every ETH payment).
contract ReentrantActor {
    enum Mode {
        Off,
        Catch,
        Bubble,
        Reject
    }

    Mode public mode;
    address public target;
    uint256 public reentryValue;
    bytes public payload;

    uint256 public received; // total ETH received through receive()
    uint256 public reentries; // re-entry attempts made
    bool public lastOk; // outcome of the last re-entry
    bytes public lastReturn; // its return or revert data

    function arm(Mode mode_, address target_, uint256 value_, bytes calldata payload_) external {
        mode = mode_;
        target = target_;
        reentryValue = value_;
        payload = payload_;
    }

    /// @notice Acts as this contract (a real attacker drives itself this way).
    function exec(address to, uint256 value, bytes calldata data) external payable returns (bytes memory ret) {
        bool ok;
        (ok, ret) = to.call{value: value}(data);
        if (!ok) _bubble(ret);
    }

    receive() external payable {
        received += msg.value;
        Mode m = mode;
        if (m == Mode.Reject) revert("ReentrantActor: rejects ETH");
        if (m == Mode.Off) return;
        mode = Mode.Off; // one attempt per arming
        ++reentries;
        (bool ok, bytes memory ret) = target.call{value: reentryValue}(payload);
        lastOk = ok;
        lastReturn = ret;
        if (!ok && m == Mode.Bubble) _bubble(ret);
    }

    function _bubble(bytes memory ret) private pure {
        assembly ("memory-safe") {
            revert(add(ret, 32), mload(ret))
        }
    }
}

/// @notice A real ERC20 whose `transfer` / `transferFrom` calls back into `target` with
///         `payload` (once per arming) before moving the tokens, bubbling the callee's revert,
///         the way an ERC777-style hook or a malicious token would.
contract ReentrantToken is ERC20 {
    address public target;
    bytes public payload;
    bool public onTransfer;
    bool public onTransferFrom;
    uint256 public reentries;

    constructor(address holder, uint256 supply) ERC20("Reentrant", "REE") {
        _mint(holder, supply);
    }

    function arm(address target_, bytes calldata payload_, bool onTransfer_, bool onTransferFrom_) external {
        target = target_;
        payload = payload_;
        onTransfer = onTransfer_;
        onTransferFrom = onTransferFrom_;
    }

    function transfer(address to, uint256 value) public override returns (bool) {
        if (onTransfer) _reenter();
        return super.transfer(to, value);
    }

    function transferFrom(address from, address to, uint256 value) public override returns (bool) {
        if (onTransferFrom) _reenter();
        return super.transferFrom(from, to, value);
    }

    function _reenter() private {
        address t = target;
        if (t == address(0)) return;
        target = address(0); // one shot
        ++reentries;
        (bool ok, bytes memory ret) = t.call(payload);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(ret, 32), mload(ret))
            }
        }
    }
}

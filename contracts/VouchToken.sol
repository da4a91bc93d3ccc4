// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import {ERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Permit.sol";
import {ERC20Votes} from "@openzeppelin/contracts/token/ERC20/extensions/ERC20Votes.sol";
import {Nonces} from "@openzeppelin/contracts/utils/Nonces.sol";
import {Time} from "@openzeppelin/contracts/utils/types/Time.sol";

/// @title VouchToken
/// @notice The staking and governance token. The whole supply is minted once, at deployment, to
///         `holder`; there is no mint or burn afterwards, so the supply is a constant that the
///         staking and slashing invariants can rely on (slashed stake moves, it is never burnt).
/// @dev Votes are checkpointed by timestamp (ERC-6372 `mode=timestamp`), which is what the
///      governor counts with: block numbers on an L2 are not a stable measure of time.
contract VouchToken is ERC20, ERC20Permit, ERC20Votes {
    constructor(address holder, uint256 supply) ERC20("Vouch", "VOUCH") ERC20Permit("Vouch") {
        _mint(holder, supply);
    }

    /// @notice ERC-6372 clock: the block timestamp.
    function clock() public view override returns (uint48) {
        return Time.timestamp();
    }

    /// @notice ERC-6372 clock mode: timestamps.
    // solhint-disable-next-line func-name-mixedcase
    function CLOCK_MODE() public pure override returns (string memory) {
        return "mode=timestamp";
    }

    function _update(address from, address to, uint256 value) internal override(ERC20, ERC20Votes) {
        super._update(from, to, value);
    }

    function nonces(address owner) public view override(ERC20Permit, Nonces) returns (uint256) {
        return super.nonces(owner);
    }
}

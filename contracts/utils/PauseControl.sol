// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {IPauseControl} from "../interfaces/IPauseControl.sol";

/// @title PauseControl
/// @notice The pause switch of every pausable Vouch contract, with two holders:
///         - `PAUSER_ROLE` (governance): `pause()` until `unpause()`, no time limit;
///         - `GUARDIAN_ROLE` (an emergency address governance appoints): `guardianPause()`, which
///           lapses by itself after `maxGuardianPause`. The guardian can never unpause, extend
///           its pause or change a parameter; governance extends a guardian's pause by calling
///           `pause()` (it becomes a governance pause) or ends it early with `unpause()`.
///         A guardian pause cannot follow another one within `maxGuardianPause` of its end, so a
///         guardian cannot chain pauses into a permanent one.
/// @dev Replaces OpenZeppelin's Pausable (same `Paused`/`Unpaused` events and
///      `EnforcedPause`/`ExpectedPause` errors) because a lapsing pause needs `paused()` to read
///      the clock. Contracts that keep a pause history override `_pauseStarted`/`_pauseEnds`.
abstract contract PauseControl is IPauseControl, AccessControl {
    bytes32 public constant PAUSER_ROLE = keccak256("PAUSER_ROLE");
    bytes32 public constant GUARDIAN_ROLE = keccak256("GUARDIAN_ROLE");

    uint64 public constant MIN_GUARDIAN_PAUSE = 1 hours;
    uint64 public constant MAX_GUARDIAN_PAUSE_LIMIT = 30 days;

    /// @inheritdoc IPauseControl
    uint64 public override maxGuardianPause = 3 days;
    /// @inheritdoc IPauseControl
    uint40 public override guardianPauseEnds;
    bool private _governancePaused;
    /// @dev The planned end of the latest guardian pause (kept when governance ends or takes it
    ///      over, so the cool-down still counts from it).
    uint40 private _lastGuardianEnd;

    modifier whenNotPaused() {
        if (paused()) revert EnforcedPause();
        _;
    }

    /// @inheritdoc IPauseControl
    function paused() public view override returns (bool) {
        return _governancePaused || block.timestamp < guardianPauseEnds;
    }

    /// @inheritdoc IPauseControl
    function pause() external override onlyRole(PAUSER_ROLE) {
        if (_governancePaused) revert EnforcedPause();
        bool extendsGuardian = block.timestamp < guardianPauseEnds;
        _governancePaused = true;
        guardianPauseEnds = 0;
        emit Paused(msg.sender);
        if (extendsGuardian) _pauseEnds(0);
        else _pauseStarted(0);
    }

    /// @inheritdoc IPauseControl
    function unpause() external override onlyRole(PAUSER_ROLE) {
        if (!paused()) revert ExpectedPause();
        _governancePaused = false;
        guardianPauseEnds = 0;
        emit Unpaused(msg.sender);
        _pauseEnds(uint40(block.timestamp));
    }

    /// @inheritdoc IPauseControl
    function guardianPause() external override onlyRole(GUARDIAN_ROLE) {
        if (paused()) revert EnforcedPause();
        uint256 allowedAt = uint256(_lastGuardianEnd) + maxGuardianPause;
        if (_lastGuardianEnd != 0 && block.timestamp < allowedAt) revert GuardianPauseTooSoon(allowedAt);
        uint40 ends = uint40(block.timestamp + maxGuardianPause);
        guardianPauseEnds = ends;
        _lastGuardianEnd = ends;
        emit GuardianPaused(msg.sender, ends);
        _pauseStarted(ends);
    }

    /// @inheritdoc IPauseControl
    function setMaxGuardianPause(uint64 duration) external override onlyRole(DEFAULT_ADMIN_ROLE) {
        if (duration < MIN_GUARDIAN_PAUSE || duration > MAX_GUARDIAN_PAUSE_LIMIT) revert InvalidPauseParameter();
        maxGuardianPause = duration;
        emit MaxGuardianPauseSet(duration);
    }

    /// @dev A pause began now; `ends` is its planned end, 0 when open-ended.
    function _pauseStarted(uint40 ends) internal virtual {}

    /// @dev The pause in force now ends at `ends` (now, or 0: it became open-ended).
    function _pauseEnds(uint40 ends) internal virtual {}
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.28;

/// @title IPauseControl
/// @notice The pause switch shared by Staking, NodeRegistry, JobMarketplace and Slashing.
///         Governance (`PAUSER_ROLE`) pauses without a time limit; a guardian (`GUARDIAN_ROLE`,
///         appointed by governance) may pause for at most `maxGuardianPause`, after which the
///         pause lapses by itself. The guardian can neither unpause nor change a parameter.
interface IPauseControl {
    /// @notice Same signature as OpenZeppelin's Pausable event.
    event Paused(address account);
    /// @notice Same signature as OpenZeppelin's Pausable event. Not emitted when a guardian
    ///         pause lapses by itself: its end is in `GuardianPaused.endsAt`.
    event Unpaused(address account);
    event GuardianPaused(address indexed guardian, uint40 endsAt);
    event MaxGuardianPauseSet(uint64 duration);

    error EnforcedPause();
    error ExpectedPause();
    /// @notice A guardian pause may start only `maxGuardianPause` after the previous one ended.
    error GuardianPauseTooSoon(uint256 allowedAt);
    error InvalidPauseParameter();

    /// @notice Pauses until `unpause`. Takes over (extends without limit) a guardian pause in force.
    /// @dev Emits `Paused`. Reverts with `EnforcedPause` when governance already paused.
    function pause() external;
    /// @notice Ends any pause in force, a guardian's too.
    /// @dev Emits `Unpaused`. Reverts with `ExpectedPause` when nothing is paused.
    function unpause() external;
    /// @notice Guardian only: pauses for `maxGuardianPause`.
    /// @dev Emits `GuardianPaused`. Reverts with `EnforcedPause` while paused and
    ///      `GuardianPauseTooSoon` within `maxGuardianPause` of the previous guardian pause's end.
    function guardianPause() external;
    /// @notice Admin only: the length of a guardian pause, within [1 hour, 30 days].
    /// @dev Emits `MaxGuardianPauseSet`. Reverts with `InvalidPauseParameter` out of bounds.
    function setMaxGuardianPause(uint64 duration) external;

    function paused() external view returns (bool);
    function maxGuardianPause() external view returns (uint64);
    /// @notice When the guardian pause in force (or the last one) ends; 0 when none was set
    ///         or governance ended or took it over.
    function guardianPauseEnds() external view returns (uint40);
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title IAttendance — how many finalized rounds of one FLTask each client contributed to
/// @notice A round hook of the task: every time the task finalizes a round, each aggregated
/// client's count goes up by one. A simple reputation record that anyone can read and that only
/// the task's finalizations can change.
interface IAttendance {
    /// @notice Client `clientId` was aggregated in round `round`; it has now been aggregated in `rounds` rounds.
    event Attended(uint256 indexed round, uint256 indexed clientId, uint256 rounds);

    /// @notice Only the task may report a finalized round.
    error NotTask(address caller);
    /// @notice The task address must be a contract address, not zero.
    error ZeroTask();

    /// @notice The task whose rounds are counted.
    function task() external view returns (address);

    /// @notice In how many finalized rounds client `clientId` was aggregated.
    function attendanceOf(uint256 clientId) external view returns (uint256);

    /// @notice How many rounds were reported (finalized rounds, empty ones included).
    function roundsCounted() external view returns (uint256);
}

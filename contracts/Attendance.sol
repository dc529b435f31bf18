// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IAttendance} from "../interfaces/IAttendance.sol";
import {IRoundHook} from "../interfaces/IRoundHook.sol";
import {ClientSet} from "./libraries/ClientSet.sol";

/// @title Attendance — per-client count of the finalized rounds it was aggregated in
/// @notice Attached to one FLTask as a round hook (`FLTask.addRoundHook`) before round 1.
contract Attendance is IAttendance, IRoundHook {
    address private immutable _task;
    uint256 private _rounds;
    mapping(uint256 => uint256) private _attended;

    /// @param task_ The FLTask whose finalized rounds this contract counts.
    constructor(address task_) {
        if (task_ == address(0)) revert ZeroTask();
        _task = task_;
    }

    /// @inheritdoc IRoundHook
    function onRoundFinalized(uint256 round, uint256[] calldata participants, uint256[] calldata) external {
        if (msg.sender != _task) revert NotTask(msg.sender);
        ++_rounds;
        uint256[] memory ids = ClientSet.toIds(participants);
        for (uint256 i = 0; i < ids.length; ++i) {
            uint256 count = ++_attended[ids[i]];
            emit Attended(round, ids[i], count);
        }
    }

    /// @inheritdoc IAttendance
    function task() external view returns (address) {
        return _task;
    }

    /// @inheritdoc IAttendance
    function attendanceOf(uint256 clientId) external view returns (uint256) {
        return _attended[clientId];
    }

    /// @inheritdoc IAttendance
    function roundsCounted() external view returns (uint256) {
        return _rounds;
    }
}

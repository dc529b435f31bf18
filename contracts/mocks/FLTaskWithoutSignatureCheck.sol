// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {FLTask} from "../FLTask.sol";

/// @title FLTaskWithoutSignatureCheck — TEST ONLY: an FLTask that accepts any signature
/// @notice Stands for a buggy or malicious task contract. Tests deploy it to show that `verify`
/// checks every commitment's signer itself instead of trusting the contract.
contract FLTaskWithoutSignatureCheck is FLTask {
    constructor(bytes32 taskConfigHash, bytes32 taskSalt) FLTask(taskConfigHash, taskSalt) {}

    function _signedBy(address, bytes32, bytes calldata) internal pure override returns (bool) {
        return true;
    }
}

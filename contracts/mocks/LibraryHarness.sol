// SPDX-License-Identifier: MIT
pragma solidity 0.8.24;

import {Bits} from "../libraries/Bits.sol";
import {ClientSet} from "../libraries/ClientSet.sol";
import {Sort} from "../libraries/Sort.sol";

/// @title LibraryHarness — TEST ONLY: the internal functions of Bits, Sort and ClientSet as views
/// @notice Tests call them with edge cases and random inputs and compare them with Python's answers.
contract LibraryHarness {
    function popcount(uint256 x) external pure returns (uint256) {
        return Bits.popcount(x);
    }

    function lowestBit(uint256 x) external pure returns (uint256) {
        return Bits.lowestBit(x);
    }

    function highestBit(uint256 x) external pure returns (uint256) {
        return Bits.highestBit(x);
    }

    function sort(uint256[] memory values) external pure returns (uint256[] memory) {
        Sort.sort(values);
        return values;
    }

    function sort32(uint32[] memory values) external pure returns (uint32[] memory) {
        Sort.sort(values);
        return values;
    }

    function sortByKey(uint256[] memory values, uint256[] memory keys, bool descending)
        external
        pure
        returns (uint256[] memory, uint256[] memory)
    {
        Sort.sortByKey(values, keys, descending);
        return (values, keys);
    }

    function count(uint256[] memory words) external pure returns (uint256) {
        return ClientSet.count(words);
    }

    function toIds(uint256[] memory words) external pure returns (uint256[] memory) {
        return ClientSet.toIds(words);
    }
}

// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {Math} from "@openzeppelin/contracts/utils/math/Math.sol";

/// @title Bits — bit counting and scanning of one 256-bit word
/// @dev Every function takes a constant number of steps, whatever bits are set: a bitmap word of
/// 256 clients costs no more than one of a single client.
library Bits {
    /// @notice The number of set bits of `x`.
    /// @dev SWAR: bit counts of 2, 4 and 8 bits, then the byte counts summed by one multiplication.
    /// The sum of a word with all 256 bits set does not fit the top byte, hence its own case.
    /// @param x the word
    /// @return the number of ones in `x` (0 to 256)
    function popcount(uint256 x) internal pure returns (uint256) {
        if (x == type(uint256).max) return 256;
        unchecked {
            x -= (x >> 1) & 0x5555555555555555555555555555555555555555555555555555555555555555;
            x = (x & 0x3333333333333333333333333333333333333333333333333333333333333333)
                + ((x >> 2) & 0x3333333333333333333333333333333333333333333333333333333333333333);
            x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f;
            return (x * 0x0101010101010101010101010101010101010101010101010101010101010101) >> 248;
        }
    }

    /// @notice The index of the lowest set bit of `x` (bit 0 is the least significant).
    /// @dev The bits below the lowest set one, counted: `x & -x` isolates that bit.
    /// @param x the word; should not be 0
    /// @return the index of the lowest set bit (0 to 255), or 256 for `x == 0`
    function lowestBit(uint256 x) internal pure returns (uint256) {
        unchecked {
            return popcount((x & (0 - x)) - 1);
        }
    }

    /// @notice The index of the highest set bit of `x` (bit 0 is the least significant).
    /// @param x the word
    /// @return the index of the highest set bit (0 to 255), or 0 for `x == 0`
    function highestBit(uint256 x) internal pure returns (uint256) {
        return Math.log2(x);
    }
}
